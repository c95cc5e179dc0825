"""Fleet-wide coalescing of opaque-token verification: one Backend API call per token across
every process (a ``SET NX`` lock, a sealed published result for ``coalesce_window``, a bounded
wait, and a fallback to asking Clerk ourselves).

Everything ``once`` waits for Clerk fits in ``http_timeout``: the wait for another process's
answer and our own call share one deadline. A process whose call failed upstream (Clerk down,
hanging, 5xx) publishes that, so its waiters answer 503 at once instead of asking again."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from clerk_fastapi.cache.redis.codec import Sealer, VerifiedCodec, forgotten_at
from clerk_fastapi.cache.redis.connection import (
    FAILED,
    Failed,
    RedisConnection,
    any_reply,
    optional_bytes_list,
)
from clerk_fastapi.errors import Reason, TokenVerificationError, UpstreamError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

POLL_INTERVAL = 0.01

# Claim in one step: a published answer wins, else take the lock. As two steps (GET, then
# SET NX) a process could miss an answer published between them, take the lock its publisher
# had just released, and ask Clerk a second time.
CLAIM = """
local published = redis.call('GET', KEYS[1])
if published then return {'p', published, redis.call('GET', KEYS[3]) or ''} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'l'} end
return {'w'}
"""
# Release only our own lock: one that outlived its expiry may have been taken by another.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def claim_reply(reply: Any) -> tuple[str, bytes | None, bytes | None] | Failed:
    """``("p", answer, tombstone)``, ``("l", None, None)`` (the lock is ours) or
    ``("w", None, None)`` (wait)."""
    if isinstance(reply, list) and reply and isinstance(reply[0], bytes):
        tag = reply[0].decode("ascii", "replace")
        if (
            tag == "p"
            and len(reply) == 3
            and isinstance(reply[1], bytes)
            and isinstance(reply[2], bytes)
        ):
            return tag, reply[1], reply[2] or None
        if tag in ("l", "w") and len(reply) == 1:
            return tag, None, None
    return FAILED


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

    async def _published(self, key: str, raw: bytes, tombstone: bytes | None) -> Verified | None:
        """A published answer, if sealed, unexpired, within this instance's own window and
        not older than a forget of the token (by any service of the instance)."""
        now = self._clock()
        body = self._sealer.open(key, raw, now)
        if body is None or body["c"] + self._settings.coalesce_window < now:
            return None
        forgotten = forgotten_at(tombstone)
        if forgotten is not None and body["c"] <= forgotten:
            return None
        if body.get("k") in ("invalid", "unavailable"):
            reason, message = body.get("r"), body.get("m")
            if isinstance(reason, str) and isinstance(message, str):
                if body["k"] == "unavailable":
                    raise UpstreamError(reason, message)
                raise TokenVerificationError(reason, message)
            return None
        return self._codec.decode(body)

    async def once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        deadline = time.monotonic() + self._settings.http_timeout
        lock_key, pub_key = self._sealer.key("l", digest), self._sealer.key("p", digest)
        # Same hash tag as the token's keys: the script touches one slot (Redis Cluster).
        tomb_key = self._sealer.tombstone_key(digest)
        lock_ms = int((self._settings.http_timeout + 1) * 1000)
        claim = await self._conn.do(
            lambda r: r.eval(CLAIM, 3, pub_key, lock_key, tomb_key, self._owner, lock_ms),
            claim_reply,
        )
        if isinstance(claim, Failed):
            return await fn()
        tag, seen, tombstone = claim
        if seen is not None:
            published = await self._published(pub_key, seen, tombstone)
            if published is not None:
                return published
            # Unreadable (another secret, or expired for us): wait for the lock like anyone.
        elif tag == "l":
            return await self._call_and_publish(fn, lock_key, pub_key)
        # Another process is asking Clerk: wait for its answer (bounded), else ask ourselves
        # within what is left of the same deadline.
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            values = await self._conn.do(
                lambda r: r.mget(pub_key, lock_key, tomb_key), optional_bytes_list
            )
            if isinstance(values, Failed) or len(values) != 3:
                break
            pub, lock, tomb = values
            if pub is not None:
                published = await self._published(pub_key, pub, tomb)
                if published is not None:
                    return published
                break
            if lock is None:
                break  # the caller vanished
        left = deadline - time.monotonic()
        if left <= 0:
            raise UpstreamError(Reason.UNEXPECTED_ERROR, "Clerk did not answer in time.")
        try:
            with anyio.fail_after(left):
                return await fn()
        except TimeoutError:
            raise UpstreamError(Reason.UNEXPECTED_ERROR, "Clerk did not answer in time.") from None

    async def _release(self, lock_key: str) -> None:
        await self._conn.do(lambda r: r.eval(RELEASE, 1, lock_key, self._owner), any_reply)

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
            await self._release(lock_key)
            raise
        except UpstreamError as exc:
            # Clerk cannot answer now: the waiters answer 503 too instead of asking again.
            await self._publish(pub_key, {"k": "unavailable", "r": exc.reason, "m": exc.message})
            await self._release(lock_key)
            raise
        except BaseException:
            await self._release(lock_key)
            raise  # waiters fall back to asking Clerk themselves
        body = self._codec.encode(verified)
        if body is not None:
            await self._publish(pub_key, body)
        await self._release(lock_key)
        return verified
