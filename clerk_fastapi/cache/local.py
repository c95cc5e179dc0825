"""In-process caches (cachetools): the default, and the near tier of every other backend."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from cachetools import TLRUCache, TTLCache

from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight
from clerk_fastapi.verifiers.base import Verified


class LocalStore:
    def __init__(self, settings: ClerkSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._results: TLRUCache[bytes, Verified] = TLRUCache(
            maxsize=max(settings.session_cache_size, 1),
            ttu=lambda _key, value, _now: value.cache_until or 0.0,
            timer=clock,
        )
        self._negative: TTLCache[bytes, bool] = TTLCache(
            maxsize=max(settings.machine_cache_size, 1),
            ttl=max(settings.negative_cache_ttl, 0.001),
            timer=clock,
        )
        self._flight: SingleFlight[Verified] = SingleFlight()
        self._window_start = -math.inf
        self._window_count = 0

    def peek(self, digest: bytes) -> Verified | None:
        return self._results.get(digest)

    async def get_verified(self, digest: bytes) -> Verified | None:
        return self._results.get(digest)

    def _put_local(self, digest: bytes, verified: Verified) -> None:
        if verified.cache_until is not None and verified.cache_until > self.clock():
            self._results[digest] = verified

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        self._put_local(digest, verified)

    async def is_known_invalid(self, digest: bytes) -> bool:
        return bool(self._negative.get(digest))

    async def put_known_invalid(self, digest: bytes) -> None:
        if self.settings.negative_cache_ttl > 0:
            self._negative[digest] = True

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        return await self._flight.run(digest, fn)

    async def take_rate_token(self) -> float | None:
        limit = self.settings.bapi_rate_limit
        if limit <= 0:
            return None
        window = self.settings.bapi_rate_window
        now = self.clock()
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

    def clear(self) -> None:
        self._results.clear()
        self._negative.clear()
        self._flight.clear()

    async def warm_up(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
