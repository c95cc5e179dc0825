"""Paths to ../shared (CI has it beside the clone) and a loader for Clerk's fixture files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures" / "clerk"
VECTORS = SHARED / "vectors" / "wycheproof"
FROZEN_NOW = 1666648250


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
