"""In-process caches (cachetools): the default, and the near tier of every other backend."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from cachetools import TTLCache

from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight


class LocalStore:
    def __init__(self, settings: ClerkSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        # Verified results: a plain dict, expiry checked on read. This is the hot path (a token
        # seen before); cachetools' TLRUCache cost a third of it. Bounded by _evict().
        self._results: dict[bytes, Verified] = {}
        self._max_results = max(settings.session_cache_size, 1)
        self._negative: TTLCache[bytes, bool] = TTLCache(
            maxsize=max(settings.machine_cache_size, 1),
            ttl=max(settings.negative_cache_ttl, 0.001),
            timer=clock,
        )
        self._flight: SingleFlight[Verified] = SingleFlight()
        self._window_start = -math.inf
        self._window_count = 0

    def peek(self, digest: bytes) -> Verified | None:
        verified = self._results.get(digest)
        if verified is None:
            return None
        if verified.cache_until is not None and verified.cache_until > self.clock():
            return verified
        self._results.pop(digest, None)  # expired: never served past the token's expiry
        return None

    async def get_verified(self, digest: bytes) -> Verified | None:
        return self.peek(digest)

    def _put_local(self, digest: bytes, verified: Verified) -> None:
        if verified.cache_until is not None and verified.cache_until > self.clock():
            if len(self._results) >= self._max_results:
                self._evict()
            self._results[digest] = verified

    def _evict(self) -> None:
        """Drop expired entries; if still full, the oldest quarter (insertion order)."""
        now = self.clock()
        expired = [k for k, v in self._results.items() if not (v.cache_until or 0) > now]
        for key in expired:
            del self._results[key]
        if len(self._results) >= self._max_results:
            for key in list(self._results)[: max(1, self._max_results // 4)]:
                del self._results[key]

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        self._put_local(digest, verified)

    async def is_known_invalid(self, digest: bytes) -> bool:
        return bool(self._negative.get(digest))

    async def put_known_invalid(self, digest: bytes) -> None:
        if self.settings.negative_cache_ttl > 0:
            self._negative[digest] = True

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        return await self._flight.run(digest, fn)

    def _rate_window(self) -> tuple[int, float, float] | None:
        """(limit, window, now) when the Backend API rate guard is on."""
        limit = self.settings.bapi_rate_limit
        return (limit, self.settings.bapi_rate_window, self.clock()) if limit > 0 else None

    async def take_rate_token(self) -> float | None:
        rate = self._rate_window()
        if rate is None:
            return None
        limit, window, now = rate
        if now - self._window_start >= window:
            self._window_start = now
            self._window_count = 0
        if self._window_count >= limit:
            return self._window_start + window - now
        self._window_count += 1
        return None

    def forget(self, digest: bytes) -> None:
        self._results.pop(digest, None)
        self._negative.pop(digest, None)

    def forget_kids(self, kids: set[str]) -> None:
        """Drop every result verified with one of these keys (they left the JWKS)."""
        for digest in [d for d, v in self._results.items() if v.kid in kids]:
            del self._results[digest]

    def clear_results(self) -> None:
        self._results.clear()

    def clear(self) -> None:
        self._results.clear()
        self._negative.clear()
        self._flight.clear()

    async def warm_up(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
