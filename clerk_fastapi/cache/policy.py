"""How many Backend API calls verification may cost, apart from where results are stored.

``CallPolicy`` decides; the store only offers primitives (``VerificationStore.coalesce_shared``
and ``count_shared``), so the in-process and the Redis store share one policy:

- one call per token for all concurrent callers: in this process (single flight), then across
  the fleet when the store reaches one;
- the Backend API rate guard (``bapi_rate_limit`` per ``bapi_rate_window``): counted by the
  shared counter when there is one, else (or while it fails) in this process (``SharedWindow``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.window import SharedWindow
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight


class CallPolicy:
    """One per ``Clerk``: every opaque kind's calls count against the same guard."""

    def __init__(
        self, store: VerificationStore, settings: ClerkSettings, clock: Callable[[], float]
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._flight: SingleFlight[Verified] = SingleFlight()
        self._window = SharedWindow(store, "rate")

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        """Run ``fn`` once for all concurrent callers with the same ``digest`` (as widely as
        the store reaches); the others get its result or its exception."""
        shared = self._store.coalesce_shared
        if shared is None:
            return await self._flight.run(digest, fn)
        return await self._flight.run(digest, lambda: shared(digest, fn))

    async def take_rate_token(self) -> float | None:
        """Count one Backend API call; ``None`` if allowed, else seconds until the next window."""
        limit, window = self._settings.bapi_rate_limit, self._settings.bapi_rate_window
        if limit <= 0:
            return None
        return await self._window.take(limit, window, self._clock())

    def clear(self) -> None:
        self._flight.clear()
