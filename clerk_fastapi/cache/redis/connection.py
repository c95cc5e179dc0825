"""One Redis client per event loop, a deadline on every operation, and a short back-off after
any failure, so that an outage costs no latency and is logged once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
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
    def __init__(self, url: str, timeout: float) -> None:
        require_redis()
        self._url = url
        self._timeout = timeout
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._skip_until = 0.0
        self._down = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the async client lives in (sync callers hand work to it)."""
        return self._loop

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A bounded pool: a burst waits for a connection instead of opening hundreds.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url,
                max_connections=MAX_CONNECTIONS,
                timeout=self._timeout,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
            )
            self._client = aioredis.Redis(connection_pool=pool)
            self._loop = loop
        return self._client

    def sync_client(self) -> Any:
        """A short-lived blocking client, for code with no event loop (a plain ``def`` route)."""
        import redis

        return redis.Redis.from_url(
            self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
        )

    async def do(
        self, op: Callable[[Any], Awaitable[Any]], check: Callable[[Any], T | Failed]
    ) -> T | Failed:
        """Run ``op`` with the deadline; ``check`` turns its reply into a value or ``FAILED``.

        Any exception and any reply of the wrong shape is a failure: Redis can make us slower,
        never decide differently.
        """
        if time.monotonic() < self._skip_until:
            return FAILED
        try:
            with anyio.fail_after(self._timeout):
                result = check(await op(self._redis()))
        except Exception as exc:
            self._failed(type(exc).__name__)
            return FAILED
        if isinstance(result, Failed):
            self._failed("a malformed reply")
            return FAILED
        if self._down:
            self._down = False
            logger.warning("Redis cache is answering again")
        return result

    def _failed(self, why: str) -> None:
        self._skip_until = time.monotonic() + BACKOFF
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


def pair_of_optional_bytes(reply: Any) -> tuple[bytes | None, bytes | None] | Failed:
    if isinstance(reply, list) and len(reply) == 2:
        first, second = reply
        if all(item is None or isinstance(item, bytes) for item in (first, second)):
            return first, second
    return FAILED


def counter(reply: Any) -> int | Failed:
    if isinstance(reply, list) and reply and type(reply[0]) is int:
        return int(reply[0])
    return FAILED
