"""Shared fixtures. The project's own tests use only the public testing kit."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
