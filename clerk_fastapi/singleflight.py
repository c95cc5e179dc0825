"""Coalesce concurrent calls for the same key onto one in-flight task."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """``await flight.run(key, fn)``: the first caller runs ``fn``; others await its result.

    A cancelled waiter does not cancel the shared task (``asyncio.shield``), and a finished task,
    failed or not, is forgotten at once: results are never cached here.
    """

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[T]] = {}

    async def run(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(fn())
            self._tasks[key] = task
            task.add_done_callback(functools.partial(self._forget, key))
        return await asyncio.shield(task)

    def active(self, key: Hashable) -> bool:
        """Whether a call for ``key`` is in flight in the running event loop."""
        task = self._tasks.get(key)
        return task is not None and task.get_loop() is asyncio.get_running_loop()

    def _forget(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: waiters may all have gone

    def clear(self) -> None:
        self._tasks.clear()
