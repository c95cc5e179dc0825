"""Shared fixtures. The project's own tests use only the public testing kit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures" / "clerk"
VECTORS = SHARED / "vectors" / "wycheproof"
FROZEN_NOW = 1666648250


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
