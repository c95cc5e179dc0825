"""``RedisStore``: the in-process ``LocalStore`` in front, Redis behind it, shared by every
worker and host (``CLERK_CACHE_URL``).

What someone with write access to Redis can do: make verification slower (delete or garble
entries, which are then ignored and re-verified), or make a token that Clerk vouched for
recently fail for a while by replaying a sealed negative entry within its expiry. What they
cannot do: forge an entry (values are sealed with a secret they do not know), move a value to
another token's key (the seal covers the key), replay a value past its own sealed expiry or past
the reading instance's own policy (opaque results older than its cache TTL, or than the
coalescing window when its opaque cache is off), or carry a verdict to an instance whose
settings would decide differently (the namespace binds the instance, the receiving machine, the
machine secret key and the decision policy: ``codec.decision_policy``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel

from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.cache.redis.codec import (
    MAX_RESULT_SECONDS,
    Sealer,
    VerifiedCodec,
    decision_policy,
    forgotten_at,
    instance_identity,
)
from clerk_fastapi.cache.redis.connection import (
    FAILED,
    Failed,
    RedisConnection,
    any_reply,
    optional_bytes,
)
from clerk_fastapi.cache.redis.fleet import FleetCoalescer
from clerk_fastapi.cache.redis.forgets import ForgetLog
from clerk_fastapi.cache.redis.rate import FleetRateGuard
from clerk_fastapi.cache.results import Rebuild
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight

logger = logging.getLogger("clerk_fastapi")


def _value_set_and_tombstone(
    reply: Any,
) -> tuple[bytes | None, set[bytes], float | None] | Failed:
    if isinstance(reply, list) and len(reply) == 3:
        value, members, tombstone = reply
        if (
            (value is None or isinstance(value, bytes))
            and isinstance(members, set)
            and all(isinstance(m, bytes) for m in members)
            and (tombstone is None or isinstance(tombstone, bytes))
        ):
            return value, members, forgotten_at(tombstone)
    return FAILED


class RedisStore:
    shared = True

    def __init__(
        self,
        settings: ClerkSettings,
        clock: Callable[[], float],
        models: Callable[[], Mapping[str, type[BaseModel]]],
        key_alive: Callable[[str], bool | None],
        rebuild: Rebuild | None = None,
    ) -> None:
        secret = settings.shared_cache_secret()
        if settings.cache_url is None or secret is None:
            raise ConfigurationError("the shared cache needs CLERK_CACHE_URL and a secret")
        self.settings = settings
        self.clock = clock
        self.near = LocalStore(settings, clock, rebuild)
        self.conn = RedisConnection(
            settings.cache_url, settings.cache_timeout, cluster=settings.cache_cluster
        )
        self.sealer = Sealer(secret, decision_policy(settings), instance_identity(settings))
        self.prefix = self.sealer.prefix
        self.codec = VerifiedCodec(models)
        self.fleet = FleetCoalescer(self.conn, self.sealer, self.codec, settings, clock)
        self.rate = FleetRateGuard(
            self.conn, self.sealer.instance_prefix, settings, clock, self.near
        )
        self._key_alive = key_alive
        self._lookups: SingleFlight[Verified | None] = SingleFlight()
        # One forget log per Clerk instance, not per namespace: a forget made by any service
        # reaches the workers of every service of the instance (and their shared results,
        # through the token's tombstone).
        self.forgets = ForgetLog(
            self.conn,
            self.near,
            self.sealer.instance_prefix,
            self.key,
            clock,
            tombstone=self.sealer.tombstone_key,
        )
        self._withdrawn = f"{self.prefix}withdrawn-kids"
        # Told each lookup's tier and result (telemetry.instrument sets it).
        self.on_lookup: Callable[[str, bool], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def key(self, kind: str, digest: bytes) -> str:
        return self.sealer.key(kind, digest)

    # -- results --------------------------------------------------------------------------------

    def peek(self, digest: bytes) -> Verified | None:
        if self.forgets.due():
            return None  # the async path reads the fleet's forget log first
        return self.near.peek(digest)

    async def get_verified(self, digest: bytes) -> Verified | None:
        await self.forgets.sync()
        local = self.near.peek(digest)
        if local is not None:
            if self.on_lookup is not None:
                self.on_lookup("local", True)
            return local
        # Concurrent requests with one token share one Redis lookup.
        shared = await self._lookups.run(digest, lambda: self._get_shared(digest))
        if self.on_lookup is not None:
            self.on_lookup("local", False)
            self.on_lookup("redis", shared is not None)
        return shared

    def _max_age(self, verified: Verified) -> float | None:
        """How old a shared opaque result this instance accepts (``None``: any, up to its
        sealed expiry). With the opaque cache off, only a result as fresh as coalescing."""
        if not verified.opaque:
            return None
        ttl = self.settings.machine_token_cache_ttl
        return ttl if ttl > 0 else self.settings.coalesce_window

    async def _get_shared(self, digest: bytes) -> Verified | None:
        key = self.key("r", digest)
        tombstone = self.sealer.tombstone_key(digest)

        async def read(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.get(key)
            pipe.smembers(self._withdrawn)
            pipe.get(tombstone)
            return await pipe.execute()

        reply = await self.conn.do(read, _value_set_and_tombstone)
        if isinstance(reply, Failed) or reply[0] is None:
            return None
        raw, withdrawn, forgotten = reply
        now = self.clock()
        body = self.sealer.open(key, raw, now)
        verified = self.codec.decode(body) if body is not None else None
        if verified is None:
            await self._discard(key)
            return None
        until = min(verified.cache_until or now, body["x"]) if body is not None else now
        max_age = self._max_age(verified)
        if body is not None:
            # No shared result outlives a forget's tombstone (MAX_RESULT_SECONDS).
            until = min(until, body["c"] + MAX_RESULT_SECONDS)
            if max_age is not None:
                until = min(until, body["c"] + max_age)
        if until <= now or body is None or body["c"] < self.forgets.trusted_from:
            return None  # expired, or may predate a forget this worker missed
        if forgotten is not None and body["c"] <= forgotten:
            return None  # forgotten (by any service of this instance) after it was made
        if verified.kid is not None and (
            self._key_alive(verified.kid) is False or verified.kid.encode() in withdrawn
        ):
            return None  # signed with a key this instance or the fleet no longer trusts
        verified = Verified(verified.principal, until, opaque=verified.opaque, kid=verified.kid)
        self.near._put_local(digest, verified)
        return verified

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        self.near._put_local(digest, verified)
        if verified.cache_until is None:
            return
        now = self.clock()
        ttl_ms = int((min(verified.cache_until - now, MAX_RESULT_SECONDS)) * 1000)
        body = self.codec.encode(verified)
        if ttl_ms <= 0 or body is None:
            return
        key = self.key("r", digest)
        value = self.sealer.seal(key, body, created=now, expires=verified.cache_until)
        await self.conn.do(lambda r: r.set(key, value, px=ttl_ms), any_reply)

    # -- negative answers -----------------------------------------------------------------------

    async def is_known_invalid(self, digest: bytes) -> bool:
        if await self.near.is_known_invalid(digest):
            return True
        ttl = self.settings.negative_cache_ttl
        if ttl <= 0:
            return False
        key = self.key("n", digest)
        raw = await self.conn.do(lambda r: r.get(key), optional_bytes)
        if not isinstance(raw, bytes):
            return False
        now = self.clock()
        body = self.sealer.open(key, raw, now)
        if body is None or body.get("k") != "invalid":
            await self._discard(key)
            return False
        if body["c"] + ttl <= now:
            return False  # older than this instance would keep it
        await self.near.put_known_invalid(digest)
        return True

    async def put_known_invalid(self, digest: bytes) -> None:
        await self.near.put_known_invalid(digest)
        ttl = self.settings.negative_cache_ttl
        if ttl > 0:
            now = self.clock()
            key = self.key("n", digest)
            value = self.sealer.seal(key, {"k": "invalid"}, created=now, expires=now + ttl)
            await self.conn.do(lambda r: r.set(key, value, px=int(ttl * 1000)), any_reply)

    # -- coalescing and the rate guard ----------------------------------------------------------

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        # One call per process (in-process single flight), then one per fleet (Redis lock).
        return await self.near.run_once(digest, lambda: self.fleet.once(digest, fn))

    async def take_rate_token(self) -> float | None:
        return await self.rate.take()

    # -- forgetting -----------------------------------------------------------------------------

    def forget(self, digest: bytes) -> None:
        """Forget ``digest`` here at once, then in Redis and (through the forget log) in every
        worker: queued and retried until Redis takes it (forgets.py).

        Works from async code (delivered by a task on the running loop) and from sync code such
        as a plain ``def`` route in a thread pool (handed to the store's loop, else a blocking
        client; what fails stays queued for the loop's next sync).
        """
        self.near.forget(digest)
        self.forgets.add(digest)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self.forgets.start_retrying()
            return
        home = self.conn.loop
        if home is not None and home.is_running() and not home.is_closed():
            home.call_soon_threadsafe(self.forgets.start_retrying)
            return
        try:
            client = self.conn.sync_client()
            try:
                self.forgets.flush_blocking(client)
            finally:
                client.close()
        except Exception as exc:  # queued: delivered by the next request's sync
            logger.warning(
                "Could not forget a token in Redis yet (%s); it stays queued", type(exc).__name__
            )

    def forget_kids(self, kids: set[str]) -> None:
        """Keys left the JWKS: drop their results here and tell the fleet (called from the
        JWKS refresh, in the event loop)."""
        self.near.forget_kids(kids)
        ttl_ms = int((MAX_RESULT_SECONDS + 60) * 1000)

        async def add(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.sadd(self._withdrawn, *sorted(kids))
            pipe.pexpire(self._withdrawn, ttl_ms)
            return await pipe.execute()

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.conn.do(add, any_reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- plumbing -------------------------------------------------------------------------------

    async def _discard(self, key: str) -> None:
        await self.conn.do(lambda r: r.delete(key), any_reply)

    def clear(self) -> None:
        self.near.clear()
        self._lookups.clear()

    async def warm_up(self) -> None:
        """Open a connection at start-up so the first burst does not pay for it."""
        await self.conn.do(lambda r: r.ping(), any_reply)
        await self.forgets.sync()

    async def aclose(self) -> None:
        await self.forgets.flush()  # a last attempt; what fails is lost with the process
        await self.forgets.aclose()
        await self.conn.aclose()
