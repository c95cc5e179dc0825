"""One Redis client per event loop, a deadline on every operation, and a short back-off after
any failure, so that an outage costs no latency and is logged once.

A connection that died under the pool (Redis restarted, a proxy dropped it) is replaced on its
first use: the command is sent again once on a fresh connection before it counts as a failure,
so a restart costs each worker at most one failed call, not one per pooled connection.
With ``cluster`` the client is a ``RedisCluster`` (keys are hash-tagged by the callers)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import anyio

from clerk_fastapi.errors import ConfigurationError

logger = logging.getLogger("clerk_fastapi")

T = TypeVar("T")
# After a failure, Redis is left alone for this long (seconds): an outage costs no latency.
BACKOFF = 1.0
MAX_CONNECTIONS = 32


class Failed:
    """What an operation returns when Redis failed, timed out, or answered nonsense."""


FAILED = Failed()


def require_redis() -> None:
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "CLERK_CACHE_URL needs the redis extra: pip install 'clerk-fastapi[redis]'"
        ) from None


class RedisConnection:
    def __init__(self, url: str, timeout: float, *, cluster: bool = False) -> None:
        require_redis()
        self._url = url
        self._timeout = timeout
        self._cluster = cluster
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._skip_until = 0.0
        self._down = False
        # Operations that failed or were skipped while Redis was down (logged once, on return).
        self.missed = 0
        # Called (in the event loop) when Redis answers again after a failure: whatever was
        # decided while it was away may not have reached it (forgets.py).
        self.on_recovered: Callable[[], None] | None = None
        # Tells the caller (telemetry) how each operation went: ("ok" | "failed" | "skipped").
        self.on_operation: Callable[[str, float], None] | None = None
        # A span around each operation (telemetry.instrument sets it).
        self.span: Callable[[], AbstractContextManager[Any]] | None = None

    @property
    def cluster(self) -> bool:
        return self._cluster

    @property
    def down(self) -> bool:
        """Whether the last operation failed (Redis not known to be answering)."""
        return self._down

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the async client lives in (sync callers hand work to it)."""
        return self._loop

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            # One immediate retry on a fresh connection, on a connection error only: a pooled
            # connection Redis closed (a restart) costs nothing. A timeout is not retried (it
            # would double the deadline).
            healing: dict[str, Any] = {
                "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                "retry_on_error": [RedisConnectionError],
                "socket_timeout": self._timeout,
                "socket_connect_timeout": self._timeout,
            }
            if self._cluster:
                self._client = aioredis.RedisCluster.from_url(
                    self._url, max_connections=MAX_CONNECTIONS, **healing
                )
            else:
                # A bounded pool: a burst waits for a connection instead of opening hundreds.
                pool = aioredis.BlockingConnectionPool.from_url(
                    self._url, max_connections=MAX_CONNECTIONS, timeout=self._timeout, **healing
                )
                self._client = aioredis.Redis(connection_pool=pool)
            self._loop = loop
        return self._client

    def sync_client(self) -> Any:
        """A short-lived blocking client, for code with no event loop (a plain ``def`` route)."""
        import redis

        factory = redis.RedisCluster if self._cluster else redis.Redis
        return factory.from_url(
            self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
        )

    async def do(
        self, op: Callable[[Any], Awaitable[Any]], check: Callable[[Any], T | Failed]
    ) -> T | Failed:
        """Run ``op`` with the deadline; ``check`` turns its reply into a value or ``FAILED``.

        Any exception and any reply of the wrong shape is a failure: Redis can make us slower,
        never decide differently.
        """
        started = time.monotonic()
        if started < self._skip_until:
            self.missed += 1
            self._report("skipped", started)
            return FAILED
        try:
            with self.span() if self.span is not None else nullcontext():
                with anyio.fail_after(self._timeout):
                    result = check(await op(self._redis()))
        except Exception as exc:
            self._failed(type(exc).__name__)
            self._report("failed", started)
            return FAILED
        if isinstance(result, Failed):
            self._failed("a malformed reply")
            self._report("failed", started)
            return FAILED
        self._report("ok", started)
        if self._down:
            self._down = False
            logger.warning(
                "Redis cache is answering again (%d operations failed or skipped meanwhile)",
                self.missed,
            )
            self.missed = 0
            if self.on_recovered is not None:
                self.on_recovered()
        return result

    def _report(self, outcome: str, started: float) -> None:
        if self.on_operation is not None:
            self.on_operation(outcome, time.monotonic() - started)

    def _failed(self, why: str) -> None:
        self._skip_until = time.monotonic() + BACKOFF
        self.missed += 1
        if not self._down:
            self._down = True
            logger.warning(
                "Redis cache unavailable (%s); verifying without it until it answers", why
            )

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # closing a client of another loop, or a dead server
                logger.debug("closing the Redis client failed", exc_info=True)


# -- reply shapes -------------------------------------------------------------------------------


def optional_bytes(reply: Any) -> bytes | Failed | None:
    return reply if reply is None or isinstance(reply, bytes) else FAILED


def any_reply(reply: Any) -> Any:
    return reply


def optional_bytes_list(reply: Any) -> list[bytes | None] | Failed:
    """An ``MGET`` reply: each value or ``None``."""
    if isinstance(reply, list) and all(item is None or isinstance(item, bytes) for item in reply):
        return list(reply)
    return FAILED


def counter(reply: Any) -> int | Failed:
    if isinstance(reply, list) and reply and type(reply[0]) is int:
        return int(reply[0])
    return FAILED
