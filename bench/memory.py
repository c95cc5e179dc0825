"""Row 6: memory per cached result and garbage-collector pauses with a full result cache.

Runs in a fresh process (``python -m bench.memory ENTRIES MODE BOUND INSERTS``, BOUND 0 for
the default bound) so that neither the
heap nor the collector's generations carry anything from other rows; prints one JSON line.

The cache is filled through the store's public ``put_verified`` with ``ENTRIES`` distinct
results: each a principal built by the session kind's mapper from a distinct Clerk-shaped claim
set (as a verification would build it), keyed by the digest of a distinct cheap token variant.
Signing 100,000 tokens would take minutes and verifying them is not what is measured here.

Modes:
- ``tracemalloc``: bytes the store retains per result (traced allocations, after a collection).
- ``rss``: resident-set growth per result; then the pauses: a churn run (requests hitting cached results, one new result
  per ``HITS_PER_INSERT`` hits, the cache staying full) with every collection timed through
  ``gc.callbacks`` and every cache operation timed on its own; last, full ``gc.collect()``
  runs timed in turns with the full cache attached and swapped for an empty one (the same heap
  otherwise).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from typing import Any

from bench.tokens import signing_key
from clerk_fastapi import Clerk
from clerk_fastapi.cache.results import ResultCache
from clerk_fastapi.kinds.base import token_digest
from clerk_fastapi.kinds.session import session_auth_from_claims
from clerk_fastapi.principals import Verified
from clerk_fastapi.testing import FakeClerk

HITS_PER_INSERT = 4
# A realistic head for the cheap variants (only their digest is ever used).
VARIANT_HEAD = "eyJhbGciOiJSUzI1NiIsImNhdCI6ImNsX0I3ZDRQRDExMUFBQSIsImtpZCI6Imluc19iZW5jaCJ9."


def variant(index: int) -> str:
    return f"{VARIANT_HEAD}{index:08d}.bench-unsigned"


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Filler:
    def __init__(self, clerk: Clerk, fake: FakeClerk) -> None:
        self.clerk = clerk
        self.fake = fake
        self.until = time.time() + 3000

    async def put(self, index: int) -> None:
        claims = self.fake.session_claims(f"user_m{index:08d}", expires_in=3600)
        verified = Verified(session_auth_from_claims(claims), self.until)
        await self.clerk.store.put_verified(token_digest(variant(index)), verified)

    async def fill(self, start: int, stop: int) -> None:
        for index in range(start, stop):
            await self.put(index)


def full_collection_ms() -> float:
    started = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - started) * 1000


def full_collections(store: Any, times: int) -> tuple[float, float, float]:
    """Full collections of the same heap with the result cache in place and swapped for an
    empty one, interleaved (one pair per repetition, so the machine's drift hits both): the
    medians with it, without it, and of the per-pair differences."""
    full_cache = store.results
    empty_cache = ResultCache(1, 1, time.time)
    with_cache, without_cache, added = [], [], []
    for _ in range(times):
        store.results = full_cache
        full = full_collection_ms()
        store.results = empty_cache
        empty = full_collection_ms()
        with_cache.append(full)
        without_cache.append(empty)
        added.append(full - empty)
    store.results = full_cache
    return (
        round(statistics.median(with_cache), 2),
        round(statistics.median(without_cache), 2),
        round(statistics.median(added), 2),
    )


async def churn(filler: Filler, entries: int, inserts: int) -> dict[str, Any]:
    """Hits on recent results plus new results (the cache stays full), every pause timed."""
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started_at: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started_at[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append((time.perf_counter() - started_at[0]) * 1000)

    clerk = filler.clerk
    next_index = entries
    longest_op = 0.0
    hits = misses = 0
    gc.callbacks.append(on_gc)
    started = time.perf_counter()
    try:
        for step in range(inserts):
            for k in range(HITS_PER_INSERT):
                # One of the most recent half: present under any policy that keeps new entries.
                index = next_index - 1 - (step * 7919 + k * 104729) % max(1, entries // 2)
                t0 = time.perf_counter()
                state = await clerk.authenticate_token(variant(index))
                longest_op = max(longest_op, time.perf_counter() - t0)
                if state.source == "cache":
                    hits += 1
                else:
                    misses += 1
            t0 = time.perf_counter()
            await filler.put(next_index)
            longest_op = max(longest_op, time.perf_counter() - t0)
            next_index += 1
    finally:
        gc.callbacks.remove(on_gc)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "inserts": inserts,
        "lookups": hits + misses,
        "hit_rate": round(hits / max(1, hits + misses), 4),
        "collections": {str(g): len(p) for g, p in pauses.items()},
        "longest_gc_pause_ms": round(max((max(p) for p in pauses.values() if p), default=0.0), 2),
        "longest_full_gc_pause_ms": round(max(pauses[2], default=0.0), 2),
        "longest_operation_ms": round(longest_op * 1000, 2),
    }


async def run(entries: int, mode: str, bound: int | None, inserts: int) -> dict[str, Any]:
    fake = FakeClerk(signing_key=signing_key())
    clerk = fake.clerk(**({"session_cache_size": bound} if bound else {}))
    filler = Filler(clerk, fake)
    await filler.fill(0, 10)  # first-use allocations (classes, caches) outside the measurement
    clerk.store.clear()
    out: dict[str, Any] = {"entries": entries, "cache_bound": clerk.settings.session_cache_size}
    if mode == "tracemalloc":
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        await filler.fill(0, entries)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        out["bytes_per_result"] = round(grown / entries)
        return out
    before = rss_bytes()
    started = time.perf_counter()
    await filler.fill(0, entries)
    out["fill_seconds"] = round(time.perf_counter() - started, 2)
    out["rss_bytes_per_result"] = round((rss_bytes() - before) / entries)
    out["churn"] = await churn(filler, entries, inserts)
    # What the cache itself adds to a full collection: the same heap timed with the full
    # cache attached and swapped out, in turns (a baseline taken before filling would also
    # count the heap's own growth, and one taken after clearing the drift between the two
    # series, which on this machine is several milliseconds either way).
    full_gc, empty_gc, added = full_collections(clerk.store, 15)
    out["full_gc_full_ms"] = full_gc
    out["full_gc_empty_ms"] = empty_gc
    out["full_gc_cache_ms"] = round(max(0.0, added), 2)
    # The compact tier holds bytes only, so the collector never tracks its dict at all.
    out["compact_tier_tracked_by_gc"] = gc.is_tracked(clerk.store.results._entries)
    return out


def main() -> None:
    entries, mode, bound, inserts = (
        int(sys.argv[1]),
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    print(json.dumps(asyncio.run(run(entries, mode, bound or None, inserts))))


if __name__ == "__main__":
    main()
