"""Someone with write access to Redis attacks the shared cache (a real redis-server).

Each test is one sentence of docs/scaling.md's "What someone with Redis access can do".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from any_app import get, make_app
from redis_support import forgets_delivered

from clerk_fastapi import Clerk, ClerkSettings
from clerk_fastapi.kinds import token_digest
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
TIMEOUT = 5.0  # a generous Redis deadline: these tests check decisions, not degradation


def result_keys(r: redis.Redis) -> list[bytes]:
    return [k for k in r.keys("clerk_fastapi:*") if b":r:" in k]


# -- the seal comes from a secret ----------------------------------------------------------------


def test_networkless_setup_needs_a_cache_secret(fake_clerk: FakeClerk, redis_url: str) -> None:
    pem = fake_clerk.signing_key.public_pem()
    with pytest.raises(ValueError, match="CLERK_CACHE_SECRET") as caught:
        ClerkSettings(jwt_key=pem, cache_url=redis_url)
    assert pem[40:80] not in str(caught.value)
    with pytest.raises(ValueError, match="at least 32"):
        ClerkSettings(jwt_key=pem, cache_url=redis_url, cache_secret="short-secret-123")


async def test_a_value_forged_from_public_material_is_refused(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """With only CLERK_JWT_KEY (public) and CLERK_CACHE_SECRET, the attacker knows the API URL,
    the public key and the value format, and can read every key in Redis."""
    secret = "s3cr3t-" + "x" * 40
    pem = fake_clerk.signing_key.public_pem()
    settings = dict(jwt_key=pem, cache_url=redis_url, cache_timeout=TIMEOUT, cache_secret=secret)
    victim = make_app(Clerk(ClerkSettings(**settings, secret_key=None), clock=fake_clerk.clock))
    assert (await get(victim, fake_clerk.session_token("user_real"))).status_code == 200
    r = redis.Redis.from_url(redis_url)
    [legit_key] = result_keys(r)
    prefix = legit_key.decode().split(":r:")[0] + ":r:"
    forged_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyX2FkbWluIn0.c2ln"  # never signed
    key = prefix + "{" + token_digest(forged_token).hex() + "}"  # hash-tagged (Cluster)
    now = fake_clerk.clock()
    body = {
        "k": "ok",
        "t": "session_token",
        "p": {"token_type": "session_token", "user_id": "user_admin"},
        "u": now + 600,
        "o": False,
        "i": None,
        "c": now,
        "x": now + 600,
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    public = f"{fake_clerk.api_url}||{pem}".encode()  # what 0.1.0 derived its MAC key from
    for mac_key in (hashlib.sha256(b"clerk_fastapi cache mac|" + public).digest(), b""):
        mac = hmac.new(mac_key, key.encode() + b"|" + raw, hashlib.sha256).hexdigest()
        r.set(key, mac.encode() + b"." + raw)
        response = await get(victim, forged_token)
        assert response.status_code == 401
        assert r.get(key) is None  # the forged value was deleted


async def test_a_value_moved_to_another_tokens_key_is_refused(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clerk = fake_clerk.clerk(cache_url=redis_url, cache_timeout=TIMEOUT)
    assert (await get(make_app(clerk), fake_clerk.session_token("user_a"))).status_code == 200
    r = redis.Redis.from_url(redis_url)
    [key] = result_keys(r)
    stranger = fake_clerk.broken_session_token("wrong_key", "user_b")  # never valid
    target = key.decode().rsplit(":", 1)[0] + ":" + token_digest(stranger).hex()
    r.set(target, r.get(key) or b"")
    fresh = make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=TIMEOUT))
    response = await get(fresh, stranger)
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == "token-invalid-signature"


# -- freshness inside the seal -------------------------------------------------------------------


async def test_a_replayed_value_does_not_outlive_its_sealed_expiry(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """A revoked API key does not come back by replaying the value saved while it was valid."""
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    on = dict(cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=60)
    key = fake_clerk.api_key(scopes=["read"])
    assert (await get(make_app(fake_clerk.clerk(**on)), key)).status_code == 200
    r = redis.Redis.from_url(redis_url)
    [stored] = result_keys(r)
    saved = r.get(stored)
    fake_clerk.revoke(key)
    clock.advance(61)  # past the 60 s the writer allowed
    r.set(stored, saved or b"", ex=86_400)  # replayed with a long Redis TTL
    fresh = make_app(fake_clerk.clerk(**on))
    hits = fake_clerk.hits["api_key_verify"]
    assert (await get(fresh, key)).status_code == 401
    assert fake_clerk.hits["api_key_verify"] == hits + 1  # asked Clerk, which says revoked


async def test_an_instance_with_the_opaque_cache_off_ignores_older_shared_results(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    key = fake_clerk.api_key()
    writer = fake_clerk.clerk(
        cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=600
    )
    assert (await get(make_app(writer), key)).status_code == 200
    fake_clerk.revoke(key)
    clock.advance(2)  # older than the reader's coalescing window (1 s)
    reader = make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=TIMEOUT))
    assert (await get(reader, key)).status_code == 401


# -- no verdict crosses a policy boundary --------------------------------------------------------


@pytest.mark.parametrize(
    ("app_settings", "admin_settings", "reason"),
    [
        (
            {"authorized_parties": ["https://app.test"]},
            {"authorized_parties": ["https://admin.test"]},
            "token-invalid-authorized-parties",
        ),
        ({}, {"audience": ["admin-api"]}, None),
        ({}, {"issuer": "https://other-issuer.test"}, None),
    ],
)
async def test_a_verdict_never_crosses_to_a_stricter_service(
    fake_clerk: FakeClerk,
    redis_url: str,
    app_settings: dict[str, Any],
    admin_settings: dict[str, Any],
    reason: str | None,
) -> None:
    """Two services share one Redis and one secret key but not their rules."""
    shared = dict(cache_url=redis_url, cache_timeout=TIMEOUT)
    app = make_app(fake_clerk.clerk(**shared, **app_settings))
    admin = make_app(fake_clerk.clerk(**shared, **admin_settings))
    token = fake_clerk.session_token("user_a", azp="https://app.test")
    assert (await get(app, token)).status_code == 200
    refused = await get(admin, token)
    assert refused.status_code == 401
    if reason is not None:
        assert refused.json()["detail"]["reason"] == reason


# -- a misbehaving Redis degrades, never refuses -------------------------------------------------


@contextlib.contextmanager
def garbage_redis() -> Iterator[str]:
    """A server that speaks RESP but answers the integer 1 to every command."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while line := await reader.readline():
                if line.startswith(b"*"):  # one command: an array of bulk strings
                    for _ in range(int(line[1:])):
                        size = await reader.readline()
                        await reader.readexactly(int(size[1:]) + 2)
                    writer.write(b":1\r\n")
                    await writer.drain()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["server"] = server
        ready.set()
        with contextlib.suppress(asyncio.CancelledError):
            async with server:
                await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"redis://127.0.0.1:{holder['port']}/0"
    finally:
        loop.call_soon_threadsafe(holder["server"].close)
        thread.join(timeout=10)


async def test_a_redis_that_answers_garbage_degrades_to_clerk(fake_clerk: FakeClerk) -> None:
    with garbage_redis() as url:
        app = make_app(fake_clerk.clerk(cache_url=url, cache_timeout=TIMEOUT, bapi_rate_limit=100))
        assert (await get(app, fake_clerk.api_key())).status_code == 200
        assert (await get(app, fake_clerk.m2m_token())).status_code == 200
        assert (await get(app, fake_clerk.session_token())).status_code == 200
        assert (await get(app, "ak_" + "n" * 40)).status_code == 401


# -- forgetting reaches every worker -------------------------------------------------------------


async def test_forget_from_a_plain_def_route_forgets_everywhere(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    on = dict(cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=600)
    worker_a, worker_b = fake_clerk.clerk(**on), fake_clerk.clerk(**on)
    app_a, app_b = make_app(worker_a), make_app(worker_b)
    key = fake_clerk.api_key()

    @app_a.post("/webhooks/revoked")
    def revoked() -> dict[str, bool]:  # a plain def: runs in a thread, no running loop
        worker_a.forget_token(key)
        return {"ok": True}

    assert (await get(app_a, key)).status_code == 200
    assert (await get(app_b, key)).status_code == 200  # now in B's memory too
    fake_clerk.revoke(key)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_a), base_url="http://a"
    ) as c:
        assert (await c.post("/webhooks/revoked")).status_code == 200
    assert result_keys(redis.Redis.from_url(redis_url)) == []
    await forgets_delivered(worker_a)
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(1.1)  # one forget-log interval (SYNC_INTERVAL) for worker B
    assert (await get(app_b, key)).status_code == 401
    assert (await get(app_a, key)).status_code == 401


async def test_a_wall_clock_set_back_does_not_delay_a_forget(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    on = dict(cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=600)
    worker_a, worker_b = fake_clerk.clerk(**on), fake_clerk.clerk(**on)
    app_b = make_app(worker_b)
    key = fake_clerk.api_key()
    assert (await get(app_b, key)).status_code == 200  # in B's memory
    fake_clerk.revoke(key)
    worker_a.forget_token(key)
    await forgets_delivered(worker_a)
    clock.advance(-3600)  # the host's clock is set back: B reads the forget log all the same
    assert (await get(app_b, key)).status_code == 401


# -- withdrawn keys ------------------------------------------------------------------------------


async def test_results_signed_by_a_withdrawn_key_stop_being_served(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    shared = dict(cache_url=redis_url, cache_timeout=TIMEOUT)
    first = make_app(fake_clerk.clerk(**shared))
    old = fake_clerk.session_token("user_old", expires_in=3600)
    assert (await get(first, old)).status_code == 200
    fake_clerk.rotate_key(keep_old=False)  # Clerk withdraws the key
    clock.advance(301)  # the JWKS is due for a refresh
    assert (
        await get(first, fake_clerk.session_token("user_new", expires_in=3600))
    ).status_code == 200
    assert (await get(first, old)).status_code == 401  # no longer served from memory
    second = make_app(fake_clerk.clerk(**shared))  # a worker that never saw the old key
    assert (await get(second, old)).status_code == 401  # nor from Redis
