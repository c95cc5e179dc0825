"""The MCP tests' fake Clerk runs on the real clock: the MCP SDK and FastMCP check a token's
``expires_at`` against ``time.time()``, which a frozen clock would leave behind."""

from __future__ import annotations

import pytest

from clerk_fastapi.testing import FakeClerk


@pytest.fixture
def fake_clerk() -> FakeClerk:
    return FakeClerk()
