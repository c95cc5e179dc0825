"""The one fixed-window counter (``FixedWindow``) and its fleet-wide form (``SharedWindow``):
the Backend API rate guard, the per-client budgets and the shares of the guard's window."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clerk_fastapi.cache.base import VerificationStore


class FixedWindow:
    """A count per fixed window (``start`` and ``count``), on the caller's clock."""

    __slots__ = ("count", "start")

    def __init__(self) -> None:
        self.start = -math.inf
        self.count = 0

    def wait(self, limit: int, window: float, now: float) -> float | None:
        """``None`` if one more fits in the current window, else seconds until the next one
        (a window that has passed starts again at ``now``)."""
        if now - self.start >= window:
            self.start, self.count = now, 0
        return None if self.count < limit else self.start + window - now

    def take(self, limit: int, window: float, now: float) -> float | None:
        """``wait``, counting one when it fits."""
        wait = self.wait(limit, window, now)
        if wait is None:
            self.count += 1
        return wait


class SharedWindow:
    """A fixed-window count kept across the fleet by the store's shared counter (windows
    aligned on the clock, one counter per window), or in this process when the store has none
    or it fails. A refused attempt counts too in the shared form (one ``INCR``, no read first)."""

    __slots__ = ("_local", "_name", "_store")

    def __init__(self, store: VerificationStore | None, name: str) -> None:
        self._store = store
        self._name = name
        self._local = FixedWindow()

    async def take(self, limit: int, window: float, now: float) -> float | None:
        """``None`` if one more fits (and count it), else seconds until the next window."""
        if self._store is not None:
            index = int(now // window)
            count = await self._store.count_shared(
                f"{self._name}:{index}", int(window * 1000) + 1000
            )
            if count is not None:
                return None if count <= limit else (index + 1) * window - now
        return self._local.take(limit, window, now)
