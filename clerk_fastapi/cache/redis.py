"""Verification caches shared by every worker and host, on Redis (``CLERK_CACHE_URL``).

Two tiers: the in-process ``LocalStore`` in front, Redis behind it. Every Redis operation has a
tight deadline (``cache_timeout``); any failure degrades to the in-process path for a short
back-off, with one warning per outage. Values are the verified principal only, signed with an
HMAC derived from the instance's secret: a value that fails the MAC or validation is ignored and
deleted, so Redis can never turn an invalid token into a valid one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, ValidationError

from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.errors import ConfigurationError, TokenVerificationError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.singleflight import SingleFlight

logger = logging.getLogger("clerk_fastapi")

T = TypeVar("T")
# After a failure, Redis is left alone for this long (seconds): an outage costs no latency.
BACKOFF = 1.0
POLL_INTERVAL = 0.01
MAX_CONNECTIONS = 32


class _Failed:
    pass


_FAILED = _Failed()


class RedisStore(LocalStore):
    def __init__(
        self,
        settings: ClerkSettings,
        clock: Callable[[], float],
        models: Callable[[], Mapping[str, type[BaseModel]]],
    ) -> None:
        super().__init__(settings, clock)
        self._models = models
        try:
            import redis.asyncio  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "CLERK_CACHE_URL needs the redis extra: pip install 'clerk-fastapi[redis]'"
            ) from None
        assert settings.cache_url is not None
        self._url = settings.cache_url
        secret = settings.secret() or ""
        pem = settings.jwt_key.get_secret_value() if settings.jwt_key else ""
        material = f"{settings.api_url}|{secret}|{pem}".encode()
        instance = hashlib.sha256(material).hexdigest()[:16]
        self.prefix = f"clerk_fastapi:v1:{instance}:"
        self._mac_key = hashlib.sha256(b"clerk_fastapi cache mac|" + material).digest()
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._skip_until = 0.0
        self._down = False
        self._owner = secrets.token_hex(8)
        self._lookups: SingleFlight[Verified | None] = SingleFlight()

    # -- plumbing -------------------------------------------------------------------------------

    def key(self, kind: str, digest: bytes) -> str:
        return f"{self.prefix}{kind}:{digest.hex()}"

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            timeout = self.settings.cache_timeout
            # A bounded pool: a burst waits for a connection instead of opening hundreds.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url,
                max_connections=MAX_CONNECTIONS,
                timeout=timeout,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
            self._client = aioredis.Redis(connection_pool=pool)
            self._loop = loop
        return self._client

    async def _do(self, op: Callable[[Any], Awaitable[T]]) -> T | _Failed:
        if time.monotonic() < self._skip_until:
            return _FAILED
        try:
            with anyio.fail_after(self.settings.cache_timeout):
                result = await op(self._redis())
        except Exception as exc:  # any Redis trouble means: use the in-process path
            self._skip_until = time.monotonic() + BACKOFF
            if not self._down:
                self._down = True
                logger.warning(
                    "Redis cache unavailable (%s); using the in-process cache until it answers",
                    type(exc).__name__,
                )
            return _FAILED
        if self._down:
            self._down = False
            logger.warning("Redis cache is answering again")
        return result

    def _seal(self, key: str, body: dict[str, Any]) -> bytes:
        raw = json.dumps(body, separators=(",", ":")).encode()
        mac = hmac.new(self._mac_key, key.encode() + b"|" + raw, hashlib.sha256).hexdigest()
        return mac.encode() + b"." + raw

    def _open(self, key: str, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, bytes):
            return None
        mac, _, raw = value.partition(b".")
        expected = hmac.new(self._mac_key, key.encode() + b"|" + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected.encode()):
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _encode_verified(self, verified: Verified) -> dict[str, Any] | None:
        token_type = getattr(verified.principal, "token_type", None)
        if not isinstance(token_type, str) or token_type not in self._models():
            return None  # a custom principal type is not shared
        return {
            "k": "ok",
            "t": token_type,
            "p": verified.principal.model_dump(mode="json"),
            "u": verified.cache_until,
        }

    def _decode_verified(self, body: dict[str, Any]) -> Verified | None:
        model = self._models().get(str(body.get("t")))
        until = body.get("u")
        if model is None or not (until is None or isinstance(until, (int, float))):
            return None
        try:
            principal = model.model_validate(body.get("p"))
        except ValidationError:
            return None
        return Verified(principal, float(until) if until is not None else None)

    async def _discard(self, key: str) -> None:
        await self._do(lambda r: r.delete(key))

    async def warm_up(self) -> None:
        """Open a connection at start-up so the first burst does not pay for it."""
        await self._do(lambda r: r.ping())

    # -- the interface --------------------------------------------------------------------------

    async def get_verified(self, digest: bytes) -> Verified | None:
        local = self.peek(digest)
        if local is not None:
            return local
        # Concurrent requests with one token share one Redis lookup.
        return await self._lookups.run(digest, lambda: self._get_shared(digest))

    async def _get_shared(self, digest: bytes) -> Verified | None:
        key = self.key("r", digest)
        raw = await self._do(lambda r: r.get(key))
        if isinstance(raw, _Failed) or raw is None:
            return None
        body = self._open(key, raw)
        verified = self._decode_verified(body) if body is not None else None
        if verified is None:
            await self._discard(key)
            return None
        if verified.cache_until is None or verified.cache_until <= self.clock():
            return None
        self._put_local(digest, verified)
        return verified

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        self._put_local(digest, verified)
        if verified.cache_until is None:
            return
        ttl_ms = int((verified.cache_until - self.clock()) * 1000)
        body = self._encode_verified(verified)
        if ttl_ms <= 0 or body is None:
            return
        key = self.key("r", digest)
        value = self._seal(key, body)
        await self._do(lambda r: r.set(key, value, px=ttl_ms))

    async def is_known_invalid(self, digest: bytes) -> bool:
        if await super().is_known_invalid(digest):
            return True
        key = self.key("n", digest)
        raw = await self._do(lambda r: r.get(key))
        if isinstance(raw, _Failed) or raw is None:
            return False
        if self._open(key, raw) is None:
            await self._discard(key)
            return False
        await super().put_known_invalid(digest)
        return True

    async def put_known_invalid(self, digest: bytes) -> None:
        await super().put_known_invalid(digest)
        ttl_ms = int(self.settings.negative_cache_ttl * 1000)
        if ttl_ms > 0:
            key = self.key("n", digest)
            value = self._seal(key, {"k": "invalid"})
            await self._do(lambda r: r.set(key, value, px=ttl_ms))

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        # One call per process (in-process single flight), then one per fleet (Redis lock).
        return await self._flight.run(digest, lambda: self._fleet_once(digest, fn))

    async def _published(self, key: str, raw: Any) -> Verified | None:
        body = self._open(key, raw)
        if body is None:
            await self._discard(key)
            return None
        if body.get("k") == "invalid":
            raise TokenVerificationError(str(body.get("r")), str(body.get("m")))
        verified = self._decode_verified(body)
        if verified is None:
            await self._discard(key)
        return verified

    async def _fleet_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        lock_key, pub_key = self.key("l", digest), self.key("p", digest)
        window_ms = max(int(self.settings.coalesce_window * 1000), 1)
        lock_ms = int((self.settings.http_timeout + 1) * 1000)
        seen = await self._do(lambda r: r.get(pub_key))
        if not isinstance(seen, _Failed) and seen is not None:
            published = await self._published(pub_key, seen)
            if published is not None:
                return published
        got = await self._do(lambda r: r.set(lock_key, self._owner, nx=True, px=lock_ms))
        if isinstance(got, _Failed):
            return await fn()
        if got:
            return await self._call_and_publish(fn, lock_key, pub_key, window_ms)
        # Another process is asking Clerk: wait for its answer (bounded), else ask ourselves.
        deadline = time.monotonic() + self.settings.http_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            values = await self._do(lambda r: r.mget(pub_key, lock_key))
            if isinstance(values, _Failed):
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

    async def _call_and_publish(
        self,
        fn: Callable[[], Awaitable[Verified]],
        lock_key: str,
        pub_key: str,
        window_ms: int,
    ) -> Verified:
        try:
            verified = await fn()
        except TokenVerificationError as exc:
            value = self._seal(pub_key, {"k": "invalid", "r": exc.reason, "m": exc.message})
            await self._do(lambda r: r.set(pub_key, value, px=window_ms))
            await self._discard(lock_key)
            raise
        except BaseException:
            await self._discard(lock_key)  # waiters fall back to asking Clerk themselves
            raise
        body = self._encode_verified(verified)
        if body is not None:
            value = self._seal(pub_key, body)
            await self._do(lambda r: r.set(pub_key, value, px=window_ms))
        await self._discard(lock_key)
        return verified

    async def take_rate_token(self) -> float | None:
        rate = self._rate_window()
        if rate is None:
            return None
        limit, window, now = rate
        index = int(now // window)
        key = f"{self.prefix}rate:{index}"
        ttl_ms = int(window * 1000) + 1000

        async def incr(r: Any) -> Any:
            pipe = r.pipeline()
            pipe.incr(key)
            pipe.pexpire(key, ttl_ms)
            return await pipe.execute()

        result = await self._do(incr)
        if isinstance(result, _Failed):
            return await super().take_rate_token()
        if int(result[0]) > limit:
            return (index + 1) * window - now
        return None

    def forget(self, digest: bytes) -> None:
        super().forget(digest)
        # Best effort: the shared entries expire on their own (bounded by the token's expiry).
        keys = [self.key(kind, digest) for kind in ("r", "n", "p")]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        task = asyncio.ensure_future(self._do(lambda r: r.delete(*keys)))
        task.add_done_callback(lambda t: t.exception())

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # closing a client of another loop, or a dead server
                logger.debug("closing the Redis client failed", exc_info=True)
