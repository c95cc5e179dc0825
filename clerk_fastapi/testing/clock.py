"""A clock that tests can freeze and move."""

from __future__ import annotations

import time


class FrozenClock:
    """Callable like ``time.time``; stays where it is put.

    >>> clock = FrozenClock(1666648250)
    >>> clock.advance(61); clock()
    1666648311.0
    """

    def __init__(self, now: float | None = None) -> None:
        self.now = float(time.time() if now is None else now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, now: float) -> None:
        self.now = float(now)

    def __repr__(self) -> str:
        return f"FrozenClock({self.now})"
