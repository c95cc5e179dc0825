"""In-process caches: the default, and the near tier of every other backend."""

from __future__ import annotations

from collections.abc import Callable

from cachetools import TTLCache

from clerk_fastapi.cache.results import Rebuild, ResultCache
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings


class LocalStore:
    shared = False
    coalesce_shared = None

    def __init__(
        self,
        settings: ClerkSettings,
        clock: Callable[[], float],
        rebuild: Rebuild | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.results = ResultCache(
            settings.session_cache_size, settings.result_cache_max_bytes, clock, rebuild
        )
        self._negative: TTLCache[bytes, bool] = TTLCache(
            maxsize=max(settings.machine_cache_size, 1),
            ttl=max(settings.negative_cache_ttl, 0.001),
            timer=clock,
        )
        # The hot path's lookup, without a call through this class.
        self.peek: Callable[[bytes], Verified | None] = self.results.get

    async def get_verified(self, digest: bytes) -> Verified | None:
        return self.results.get(digest)

    def put_local(self, digest: bytes, verified: Verified) -> None:
        """``put_verified`` without a coroutine (the shared tier fills its near tier with it)."""
        self.results.put(digest, verified)

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        self.results.put(digest, verified)

    async def is_known_invalid(self, digest: bytes) -> bool:
        return bool(self._negative.get(digest))

    async def put_known_invalid(self, digest: bytes) -> None:
        if self.settings.negative_cache_ttl > 0:
            self._negative[digest] = True

    async def count_shared(self, name: str, ttl_ms: int) -> int | None:
        return None  # nothing shared: the call policy counts in this process

    def forget(self, digest: bytes) -> None:
        self.results.pop(digest)
        self._negative.pop(digest, None)

    def forget_kids(self, kids: set[str]) -> None:
        """Drop every result verified with one of these keys (they left the JWKS)."""
        self.results.forget_kids(kids)

    def clear_results(self) -> None:
        self.results.clear()

    def clear(self) -> None:
        self.results.clear()
        self._negative.clear()

    async def warm_up(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
