"""Paths to the test data kept in the repository (tests/data) and a loader for its Clerk fixtures.

The data lives in the clone (with its licences) so that a clone on its own passes `make test`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
FIXTURES = DATA / "clerk"
VECTORS = DATA / "wycheproof"
FROZEN_NOW = 1666648250


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
