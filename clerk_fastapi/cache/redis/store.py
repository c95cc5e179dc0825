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
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel

from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.cache.redis.codec import (
    Sealer,
    VerifiedCodec,
    decision_policy,
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
from clerk_fastapi.cache.redis.rate import FleetRateGuard
from clerk_fastapi.cache.results import Rebuild
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight

logger = logging.getLogger("clerk_fastapi")

# Every worker reads the fleet's forget log at least this often (seconds) before it serves a
# result from its own memory: ``forget_token`` on one worker reaches the others within it.
FORGET_SYNC_INTERVAL = 1.0
FORGET_LOG_LENGTH = 100_000
KINDS = ("r", "n", "p")
# No result is ever reused for longer (kinds/_jwt.py MAX_RESULT_CACHE_SECONDS): a withdrawn
# kid is remembered by the fleet that long.
MAX_RESULT_SECONDS = 3600.0


def _value_and_set(reply: Any) -> tuple[bytes | None, set[bytes]] | Failed:
    if isinstance(reply, list) and len(reply) == 2:
        value, members = reply
        if (
            (value is None or isinstance(value, bytes))
            and isinstance(members, set)
            and all(isinstance(m, bytes) for m in members)
        ):
            return value, members
    return FAILED


def _stream_entries(reply: Any) -> list[tuple[bytes, bytes]] | Failed:
    """``XRANGE`` reply -> [(id, digest)]; anything else is a malformed reply."""
    if not isinstance(reply, list):
        return FAILED
    entries: list[tuple[bytes, bytes]] = []
    for item in reply:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            return FAILED
        entry_id, fields = item
        if not isinstance(entry_id, bytes) or not isinstance(fields, dict):
            return FAILED
        digest = fields.get(b"d")
        if isinstance(digest, bytes):
            entries.append((entry_id, digest))
    return entries


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
        self.conn = RedisConnection(settings.cache_url, settings.cache_timeout)
        self.sealer = Sealer(secret, decision_policy(settings), instance_identity(settings))
        self.prefix = self.sealer.prefix
        self.codec = VerifiedCodec(models)
        self.fleet = FleetCoalescer(self.conn, self.sealer, self.codec, settings, clock)
        self.rate = FleetRateGuard(
            self.conn, self.sealer.instance_prefix, settings, clock, self.near
        )
        self._key_alive = key_alive
        self._lookups: SingleFlight[Verified | None] = SingleFlight()
        self._forget_log = f"{self.prefix}forgets"
        self._withdrawn = f"{self.prefix}withdrawn-kids"
        self._forgets_seen: bytes | None = None
        self._next_forget_sync = -1.0
        self._tasks: set[asyncio.Task[Any]] = set()

    def key(self, kind: str, digest: bytes) -> str:
        return self.sealer.key(kind, digest)

    # -- results --------------------------------------------------------------------------------

    def peek(self, digest: bytes) -> Verified | None:
        if time.monotonic() >= self._next_forget_sync:
            return None  # the async path reads the fleet's forget log first
        return self.near.peek(digest)

    async def get_verified(self, digest: bytes) -> Verified | None:
        await self._sync_forgets()
        local = self.near.peek(digest)
        if local is not None:
            return local
        # Concurrent requests with one token share one Redis lookup.
        return await self._lookups.run(digest, lambda: self._get_shared(digest))

    def _max_age(self, verified: Verified) -> float | None:
        """How old a shared opaque result this instance accepts (``None``: any, up to its
        sealed expiry). With the opaque cache off, only a result as fresh as coalescing."""
        if not verified.opaque:
            return None
        ttl = self.settings.machine_token_cache_ttl
        return ttl if ttl > 0 else self.settings.coalesce_window

    async def _get_shared(self, digest: bytes) -> Verified | None:
        key = self.key("r", digest)

        async def read(r: Any) -> Any:
            pipe = r.pipeline()
            pipe.get(key)
            pipe.smembers(self._withdrawn)
            return await pipe.execute()

        reply = await self.conn.do(read, _value_and_set)
        if isinstance(reply, Failed) or reply[0] is None:
            return None
        raw, withdrawn = reply
        now = self.clock()
        body = self.sealer.open(key, raw, now)
        verified = self.codec.decode(body) if body is not None else None
        if verified is None:
            await self._discard(key)
            return None
        until = min(verified.cache_until or now, body["x"]) if body is not None else now
        max_age = self._max_age(verified)
        if max_age is not None and body is not None:
            until = min(until, body["c"] + max_age)
        if until <= now:
            return None
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
        ttl_ms = int((verified.cache_until - now) * 1000)
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
        """Forget ``digest`` here, in Redis, and (through the forget log) in every worker.

        Works from async code (a task on the running loop) and from sync code such as a plain
        ``def`` route in a thread pool (handed to the store's loop, else a blocking client).
        """
        self.near.forget(digest)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(self._forget_shared(digest))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        home = self.conn.loop
        if home is not None and home.is_running() and not home.is_closed():
            future = asyncio.run_coroutine_threadsafe(self._forget_shared(digest), home)
            with contextlib.suppress(Exception):
                future.result(timeout=self.settings.cache_timeout * 4)
            return
        self._forget_shared_sync(digest)

    async def _forget_shared(self, digest: bytes) -> None:
        keys = [self.key(kind, digest) for kind in KINDS]

        async def run(r: Any) -> Any:
            pipe = r.pipeline()
            pipe.delete(*keys)
            pipe.xadd(self._forget_log, {"d": digest.hex()}, maxlen=FORGET_LOG_LENGTH)
            return await pipe.execute()

        await self.conn.do(run, any_reply)

    def _forget_shared_sync(self, digest: bytes) -> None:
        try:
            client = self.conn.sync_client()
            pipe = client.pipeline()
            pipe.delete(*[self.key(kind, digest) for kind in KINDS])
            pipe.xadd(self._forget_log, {"d": digest.hex()}, maxlen=FORGET_LOG_LENGTH)
            pipe.execute()
            client.close()
        except Exception as exc:  # the shared entries still expire on their own
            logger.warning("Could not forget a token in Redis (%s)", type(exc).__name__)

    async def _sync_forgets(self) -> None:
        """Apply the fleet's forget log to this worker's memory (at most once a second)."""
        if time.monotonic() < self._next_forget_sync:
            return
        self._next_forget_sync = time.monotonic() + FORGET_SYNC_INTERVAL
        log = self._forget_log
        if self._forgets_seen is None:
            # Start from the log's end: this worker remembers nothing older yet.
            last = await self.conn.do(lambda r: r.xrevrange(log, count=1), _stream_entries)
            if isinstance(last, Failed):
                self._next_forget_sync = -1.0
                return
            self._forgets_seen = last[0][0] if last else b"0-0"
            return
        start = b"(" + self._forgets_seen
        entries = await self.conn.do(lambda r: r.xrange(log, min=start), _stream_entries)
        if isinstance(entries, Failed):
            self.near.clear_results()  # cannot tell what was forgotten: forget it all
            return
        for entry_id, digest_hex in entries:
            self._forgets_seen = entry_id
            with contextlib.suppress(ValueError):
                self.near.forget(bytes.fromhex(digest_hex.decode("ascii", "replace")))

    def forget_kids(self, kids: set[str]) -> None:
        """Keys left the JWKS: drop their results here and tell the fleet (called from the
        JWKS refresh, in the event loop)."""
        self.near.forget_kids(kids)
        ttl_ms = int((MAX_RESULT_SECONDS + 60) * 1000)

        async def add(r: Any) -> Any:
            pipe = r.pipeline()
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
        await self._sync_forgets()

    async def aclose(self) -> None:
        await self.conn.aclose()
