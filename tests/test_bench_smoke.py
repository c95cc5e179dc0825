"""The benchmark harness runs (reduced mode: no wrk, no peers' install here)."""

from __future__ import annotations

import pytest

from bench.__main__ import growth, opaque, per_call  # noqa: F401 (import smoke)
from clerk_fastapi.testing import FakeClerk


def test_growth_and_opaque_sections_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness runs and counts right; its speeds are make bench's business, not asserted."""
    import bench.__main__ as harness

    monkeypatch.setattr(harness, "QUICK", True)
    fake = FakeClerk(key_pool_index=None)
    result = harness.growth(fake)
    assert set(result["distinct_tokens"]) == {"1", "100", "1000"}
    for size, row in result["distinct_tokens"].items():
        assert row["hit_rate"] == 0.5, size  # each token sent twice: the second is a cache hit
    with fake.serve() as url:
        opaque_result = harness.opaque(fake, url)
    calls = {name: row["backend_api_calls"] for name, row in opaque_result.items()}
    distinct = opaque_result["distinct tokens, cache off"]["requests"]
    hot = opaque_result["one hot token, cache off"]["requests"]
    # Deterministic: one call per distinct token; a cached hot token costs one call in all.
    assert calls["distinct tokens, cache off"] == distinct
    assert calls["distinct tokens, cache on (30 s)"] == distinct
    assert calls["one hot token, cache on (30 s)"] == 1
    # Without the cache, overlapping requests share a call; how many overlap depends on the
    # machine's speed, so only the bounds are asserted (at least one, never one per request+).
    assert 1 <= calls["one hot token, cache off"] <= hot
    assert 1 <= calls["50 concurrent, one token, cache off"] <= 50
