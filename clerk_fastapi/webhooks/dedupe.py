"""``WebhookDeduplicator``: handle each Clerk message once, even when Svix delivers it twice.

Svix retries a delivery that failed or timed out with the same ``svix-id`` (``event.delivery_id``),
and may deliver one message twice; Clerk's SDK does not deduplicate. This helper remembers the
ids it has seen: in this process (always), and on Redis when given a URL (``SET NX EX``, the
connection handling of the verification cache), so a retry that reaches another worker or host
is caught too. A handler that fails releases its claim, so Svix's next retry is handled.

If Redis cannot answer, the delivery counts as new (at-least-once: handling a message twice is
recoverable, dropping one is not) and the outage is logged once.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from cachetools import TTLCache

from clerk_fastapi.webhooks.events import BaseWebhookEvent

# Svix retries for about 28 hours after the first attempt; keep ids a good while longer.
DEFAULT_TTL = 3 * 24 * 3600.0


def _claimed(reply: Any) -> bool:
    # SET NX: True when the key was set (first delivery), None when it existed.
    return reply is True


class WebhookDeduplicator:
    """``async with dedupe.once(event) as first:`` runs the body's work only for the first
    delivery of a message.

    ``cache_url``: ``redis://...`` to share the ids across workers and hosts (needs the
    ``redis`` extra); ``None`` keeps them in this process. ``namespace`` separates endpoints
    that share one Redis (Svix gives one message the same id on every endpoint). ``ttl``:
    seconds an id is remembered.
    """

    def __init__(
        self,
        *,
        cache_url: str | None = None,
        namespace: str = "default",
        ttl: float = DEFAULT_TTL,
        max_local: int = 100_000,
        timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace = namespace
        self.ttl = ttl
        self._local: TTLCache[str, bool] = TTLCache(maxsize=max_local, ttl=ttl, timer=clock)
        self._conn: Any = None
        if cache_url:
            from clerk_fastapi.cache.redis.connection import RedisConnection

            self._conn = RedisConnection(cache_url, timeout)

    def key(self, delivery_id: str) -> str:
        digest = hashlib.sha256(delivery_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"clerk-fastapi:webhook:{self.namespace}:{digest}"

    async def claim(self, delivery: BaseWebhookEvent | str) -> bool:
        """``True`` for the first delivery of a message (now claimed), ``False`` for a repeat."""
        key = self.key(delivery if isinstance(delivery, str) else delivery.delivery_id)
        if key in self._local:
            return False
        self._local[key] = True
        if self._conn is None:
            return True
        ttl_ms = max(1, int(self.ttl * 1000))

        async def set_once(r: Any) -> Any:
            return await r.set(key, b"1", nx=True, px=ttl_ms)

        from clerk_fastapi.cache.redis.connection import FAILED, any_reply

        reply = await self._conn.do(set_once, any_reply)
        if reply is FAILED:
            return True
        return _claimed(reply)

    async def release(self, delivery: BaseWebhookEvent | str) -> None:
        """Forget a claim (the handler failed): the next delivery of the message is handled."""
        key = self.key(delivery if isinstance(delivery, str) else delivery.delivery_id)
        self._local.pop(key, None)
        if self._conn is not None:

            async def delete(r: Any) -> Any:
                return await r.delete(key)

            from clerk_fastapi.cache.redis.connection import any_reply

            await self._conn.do(delete, any_reply)

    @contextlib.asynccontextmanager
    async def once(self, delivery: BaseWebhookEvent | str) -> AsyncIterator[bool]:
        """Claim the message; yields whether this is its first delivery. If the block raises,
        the claim is released (and the exception propagates, so Svix retries)."""
        first = await self.claim(delivery)
        try:
            yield first
        except BaseException:
            if first:
                await self.release(delivery)
            raise

    def clear(self) -> None:
        """Forget this process's ids (Redis keeps its own until they expire)."""
        self._local.clear()

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.aclose()
