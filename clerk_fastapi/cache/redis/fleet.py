"""Fleet-wide coalescing of opaque-token verification: one Backend API call per token across
every process (a ``SET NX`` lock, a sealed published result for ``coalesce_window``, a bounded
wait, and a fallback to asking Clerk ourselves)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from clerk_fastapi.cache.redis.codec import Sealer, VerifiedCodec
from clerk_fastapi.cache.redis.connection import (
    Failed,
    RedisConnection,
    any_reply,
    optional_bytes,
    pair_of_optional_bytes,
    truthy,
)
from clerk_fastapi.errors import TokenVerificationError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

POLL_INTERVAL = 0.01


class FleetCoalescer:
    def __init__(
        self,
        conn: RedisConnection,
        sealer: Sealer,
        codec: VerifiedCodec,
        settings: ClerkSettings,
        clock: Callable[[], float],
    ) -> None:
        self._conn = conn
        self._sealer = sealer
        self._codec = codec
        self._settings = settings
        self._clock = clock
        self._owner = secrets.token_hex(8)

    async def _published(self, key: str, raw: bytes) -> Verified | None:
        """A published answer, if sealed, unexpired and within this instance's own window."""
        now = self._clock()
        body = self._sealer.open(key, raw, now)
        if body is None or body["c"] + self._settings.coalesce_window < now:
            return None
        if body.get("k") == "invalid":
            reason, message = body.get("r"), body.get("m")
            if isinstance(reason, str) and isinstance(message, str):
                raise TokenVerificationError(reason, message)
            return None
        return self._codec.decode(body)

    async def once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        lock_key, pub_key = self._sealer.key("l", digest), self._sealer.key("p", digest)
        lock_ms = int((self._settings.http_timeout + 1) * 1000)
        seen = await self._conn.do(lambda r: r.get(pub_key), optional_bytes)
        if isinstance(seen, bytes):
            published = await self._published(pub_key, seen)
            if published is not None:
                return published
        got = await self._conn.do(
            lambda r: r.set(lock_key, self._owner, nx=True, px=lock_ms), truthy
        )
        if isinstance(got, Failed):
            return await fn()
        if got:
            return await self._call_and_publish(fn, lock_key, pub_key)
        # Another process is asking Clerk: wait for its answer (bounded), else ask ourselves.
        deadline = time.monotonic() + self._settings.http_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            values = await self._conn.do(
                lambda r: r.mget(pub_key, lock_key), pair_of_optional_bytes
            )
            if isinstance(values, Failed):
                break
            pub, lock = values
            if pub is not None:
                published = await self._published(pub_key, pub)
                if published is not None:
                    return published
                break
            if lock is None:
                break  # the caller failed or vanished
        return await fn()

    async def _publish(self, pub_key: str, body: dict[str, Any]) -> None:
        now = self._clock()
        window = self._settings.coalesce_window
        value = self._sealer.seal(pub_key, body, created=now, expires=now + window)
        await self._conn.do(
            lambda r: r.set(pub_key, value, px=max(int(window * 1000), 1)), any_reply
        )

    async def _call_and_publish(
        self, fn: Callable[[], Awaitable[Verified]], lock_key: str, pub_key: str
    ) -> Verified:
        try:
            verified = await fn()
        except TokenVerificationError as exc:
            await self._publish(pub_key, {"k": "invalid", "r": exc.reason, "m": exc.message})
            await self._conn.do(lambda r: r.delete(lock_key), any_reply)
            raise
        except BaseException:
            await self._conn.do(lambda r: r.delete(lock_key), any_reply)
            raise  # waiters fall back to asking Clerk themselves
        body = self._codec.encode(verified)
        if body is not None:
            await self._publish(pub_key, body)
        await self._conn.do(lambda r: r.delete(lock_key), any_reply)
        return verified
