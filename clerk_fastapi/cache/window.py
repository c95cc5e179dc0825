"""The one fixed-window counter: the per-client budgets and the per-process rate guard."""

from __future__ import annotations

import math


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
