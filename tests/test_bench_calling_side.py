"""The calling-side benchmark section runs (reduced mode) and measures with a warm token."""

from __future__ import annotations

from bench.calling_side import calling_side
from clerk_fastapi.testing import FakeClerk


def test_calling_side_section_runs_with_one_token() -> None:
    result = calling_side(FakeClerk(), quick=True)
    assert result["token_creations"] == 1  # warm: every measured request reused it
    assert result["requests_each"] == 100
    assert result["bare_httpx_us"] > 0 and result["with_clerk_m2m_auth_us"] > 0
    assert result["auth_flow_alone_us"] > 0
