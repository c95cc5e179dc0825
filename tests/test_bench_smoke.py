"""The benchmark harness runs (reduced mode: no wrk, no peers' install here)."""

from __future__ import annotations

import asyncio

import pytest

from bench.__main__ import growth, opaque, per_call  # noqa: F401 (import smoke)
from clerk_fastapi.testing import FakeClerk


def test_growth_and_opaque_sections_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.__main__ as harness

    monkeypatch.setattr(harness, "QUICK", True)
    fake = FakeClerk(key_pool_index=None)
    result = harness.growth(fake)
    assert set(result["distinct_tokens"]) == {"1", "100", "1000"}
    assert result["distinct_tokens"]["1000"]["hit_rate"] == 0.5  # each token sent twice
    with fake.serve() as url:
        opaque_result = harness.opaque(fake, url)
    assert opaque_result["50 concurrent, one token, cache off"]["backend_api_calls"] == 1
    hot_cached = opaque_result["one hot token, cache on (30 s)"]
    assert hot_cached["backend_api_calls"] == 1
    asyncio.get_event_loop_policy()
