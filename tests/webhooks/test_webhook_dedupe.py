"""``WebhookDeduplicator``: one message handled once across two app instances (two workers)
sharing a real redis-server; a failed handler releases its claim; Redis down means at-least-once."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from redis_support import redis_server

from clerk_fastapi import ClerkWebhook
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import WebhookDelivery
from clerk_fastapi.webhooks import WebhookDeduplicator, WebhookEvent

pytestmark = pytest.mark.anyio


def worker(
    fake: FakeClerk, dedupe: WebhookDeduplicator, handled: Counter[str], fail: set[str]
) -> FastAPI:
    """One worker's app: its own process-local memory (its own deduplicator object)."""
    app = FastAPI()
    webhook = ClerkWebhook(fake.webhook_signing_secret)

    @app.post("/webhooks/clerk")
    async def receive(event: WebhookEvent = Depends(webhook)) -> dict[str, str]:
        async with dedupe.once(event) as first:
            if not first:
                return {"status": "duplicate"}
            if event.delivery_id in fail:
                fail.discard(event.delivery_id)
                raise HTTPException(503, "database unavailable")
            handled[event.delivery_id] += 1
        return {"status": "handled"}

    return app


async def send(app: FastAPI, delivery: WebhookDelivery) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        return await client.post("/webhooks/clerk", headers=delivery.headers, content=delivery.body)


async def test_a_retry_on_another_worker_is_caught_through_redis() -> None:
    fake = FakeClerk()
    handled: Counter[str] = Counter()
    fail: set[str] = set()
    with redis_server() as (url, proc):
        a_dedupe = WebhookDeduplicator(cache_url=url, namespace="users")
        b_dedupe = WebhookDeduplicator(cache_url=url, namespace="users")
        a = worker(fake, a_dedupe, handled, fail)
        b = worker(fake, b_dedupe, handled, fail)

        first = fake.webhook("user.created")
        assert (await send(a, first)).json() == {"status": "handled"}
        assert (await send(b, first)).json() == {"status": "duplicate"}  # the other worker
        assert (await send(a, first)).json() == {"status": "duplicate"}

        # A handler that fails releases the claim: Svix's retry, wherever it lands, is handled.
        second = fake.webhook("user.updated")
        fail.add(second.headers["svix-id"])
        assert (await send(a, second)).status_code == 503
        assert (await send(b, second)).json() == {"status": "handled"}
        assert (await send(a, second)).json() == {"status": "duplicate"}

        # Another endpoint (namespace) on the same Redis keeps its own ids.
        other = worker(fake, WebhookDeduplicator(cache_url=url, namespace="billing"), handled, fail)
        assert (await send(other, first)).json() == {"status": "handled"}

        # Without Redis, each worker can only know its own: at-least-once, never dropped.
        proc.kill()
        proc.wait()
        third = fake.webhook("user.deleted")
        assert (await send(a, third)).json() == {"status": "handled"}
        assert (await send(b, third)).json() == {"status": "handled"}
        assert (await send(a, third)).json() == {"status": "duplicate"}
        for dedupe in (a_dedupe, b_dedupe):
            await dedupe.aclose()

    assert handled == {
        first.headers["svix-id"]: 2,  # once per namespace
        second.headers["svix-id"]: 1,
        third.headers["svix-id"]: 2,
    }


async def test_in_process_deduplication_expires() -> None:
    now = [1000.0]
    dedupe = WebhookDeduplicator(ttl=60, clock=lambda: now[0])
    assert await dedupe.claim("msg_1")
    assert not await dedupe.claim("msg_1")
    now[0] += 61
    assert await dedupe.claim("msg_1")
    await dedupe.release("msg_1")
    assert await dedupe.claim("msg_1")
