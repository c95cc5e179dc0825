"""Several services and several Clerk instances share one Redis (a real redis-server), with no
write access assumed: only what the deployments themselves put there. Each service refuses
exactly what it would refuse on its own (docs/scaling.md, "What is shared, keyed by what").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi import Depends, FastAPI
from redis_support import redis_server

from clerk_fastapi import Auth, Clerk
from clerk_fastapi.cache.redis import RedisStore
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
TIMEOUT = 5.0
CACHE_SECRET = "one-cache-secret-for-every-instance-" + "x" * 16


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as (url, _proc):
        yield url


@pytest.fixture(autouse=True)
def _flush(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushall()


@pytest.fixture
def fake() -> FakeClerk:
    return FakeClerk(clock=FrozenClock())


def make_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/any")
    async def any_route(auth: object = Depends(Auth(accepts="any"))) -> dict[str, Any]:
        return {
            "type": getattr(auth, "token_type", ""),
            "scoped": getattr(auth, "scoped_to_receiver", None),
        }

    return app


async def get(app: FastAPI, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as c:
        return await c.get("/any", headers={"Authorization": f"Bearer {token}"})


async def answers(clerk: Clerk, token: str) -> tuple[int, Any]:
    response = await get(make_app(clerk), token)
    body = response.json()
    return response.status_code, body.get("scoped") if response.status_code == 200 else None


# -- two services of one instance: different receiving machines ----------------------------------


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
async def test_service_b_never_serves_service_a_receiver_verdict(
    fake: FakeClerk, redis_url: str, token_format: str
) -> None:
    """Same secret key, same Redis, different CLERK_MACHINE_ID: a caller's token scoped only to
    A is ``scoped_to_receiver=True`` at A and ``False`` at B, in either order."""
    receiver_a, receiver_b = fake.add_machine("a"), fake.add_machine("b")
    caller = fake.add_machine("caller", scoped_machines=[receiver_a.id])
    shared = dict(cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=60)
    alone_b = fake.clerk(machine_id=receiver_b.id, machine_token_cache_ttl=60)
    for first, second in (("a", "b"), ("b", "a")):
        token = fake.m2m_token(token_format, machine_id=caller.id, scopes=[receiver_a.id])  # type: ignore[arg-type]
        services = {
            "a": fake.clerk(**shared, machine_id=receiver_a.id),
            "b": fake.clerk(**shared, machine_id=receiver_b.id),
        }
        await answers(services[first], token)
        assert await answers(services["a"], token) == (200, True)
        assert await answers(services["b"], token) == (200, False)
        assert await answers(services[second], token) == await answers(
            alone_b if second == "b" else fake.clerk(machine_id=receiver_a.id), token
        )


@pytest.mark.parametrize("opaque_cache_ttl", [60.0, 0.0])
async def test_a_token_clerk_refuses_to_b_machine_key_is_refused_at_b(
    fake: FakeClerk, redis_url: str, opaque_cache_ttl: float
) -> None:
    """Different CLERK_MACHINE_SECRET_KEY: Clerk verifies an opaque M2M token per machine. A's
    verdict must not reach B, neither from the opaque cache nor from the fleet's coalescing."""
    fake.machine_verify_requires_scope = True
    receiver_a, receiver_b = fake.add_machine("a"), fake.add_machine("b")
    caller = fake.add_machine("caller", scoped_machines=[receiver_a.id])
    token = fake.m2m_token(machine_id=caller.id, scopes=[receiver_a.id])
    shared = dict(
        cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=opaque_cache_ttl
    )
    a = fake.clerk(**shared, machine_secret_key=receiver_a.secret_key)
    b = fake.clerk(**shared, machine_secret_key=receiver_b.secret_key)
    alone_b = fake.clerk(machine_secret_key=receiver_b.secret_key)
    assert (await get(make_app(a), token)).status_code == 200
    assert (await get(make_app(alone_b), token)).status_code == 401
    refused = await get(make_app(b), token)  # same instant: inside A's coalescing window
    assert refused.status_code == 401


# -- two Clerk instances, one Redis, one CLERK_CACHE_SECRET -------------------------------------


def two_instances() -> tuple[FakeClerk, FakeClerk]:
    clock = FrozenClock()
    one = FakeClerk(clock=clock, kid="ins_one", frontend_api="clerk.one.test")
    two = FakeClerk(clock=clock, kid="ins_two", frontend_api="clerk.two.test", key_pool_index=1)
    return one, two


async def test_instance_two_never_accepts_instance_one_tokens(redis_url: str) -> None:
    """Staging and production (two instances, their own secret keys) share Redis and one cache
    secret: instance 2 refuses instance 1's session token and API key, as it does alone."""
    one, two = two_instances()
    assert one.api_url == two.api_url  # nothing but the instance tells them apart
    shared = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        cache_secret=CACHE_SECRET,
        machine_token_cache_ttl=60,
    )
    session, key = one.session_token("user_one"), one.api_key(subject="user_one")
    first = one.clerk(**shared)
    for token in (session, key):
        assert (await get(make_app(first), token)).status_code == 200
    second = two.clerk(**shared)
    alone = two.clerk()
    for token in (session, key):
        assert (await get(make_app(alone), token)).status_code == 401
        assert (await get(make_app(second), token)).status_code == 401


async def test_networkless_instances_sharing_a_cache_secret_stay_apart(redis_url: str) -> None:
    """With only CLERK_JWT_KEY (no secret key) the instance is told apart by its PEM key."""
    one, two = two_instances()
    shared = dict(cache_url=redis_url, cache_timeout=TIMEOUT, cache_secret=CACHE_SECRET)

    def networkless(fake: FakeClerk) -> Clerk:
        return fake.clerk(**shared, secret_key=None, jwt_key=fake.signing_key.public_pem())

    token = one.session_token("user_one")
    assert (await get(make_app(networkless(one)), token)).status_code == 200
    assert (await get(make_app(networkless(two)), token)).status_code == 401


async def test_workers_of_one_service_still_share(fake: FakeClerk, redis_url: str) -> None:
    """The boundary is the service, not the process: a second worker with the same settings
    answers from Redis without asking Clerk."""
    shared = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        cache_secret=CACHE_SECRET,
        machine_token_cache_ttl=60,
        machine_id=fake.default_machine_id,
    )
    key = fake.api_key()
    assert (await get(make_app(fake.clerk(**shared)), key)).status_code == 200
    hits = fake.hits["api_key_verify"]
    assert (await get(make_app(fake.clerk(**shared)), key)).status_code == 200
    assert fake.hits["api_key_verify"] == hits


async def test_services_of_one_instance_share_the_fleet_rate_limit(
    fake: FakeClerk, redis_url: str
) -> None:
    """Clerk limits per instance: two services (different receiving machines) draw on one
    fleet-wide CLERK_BAPI_RATE_LIMIT, not one each."""
    a, b = fake.add_machine("a"), fake.add_machine("b")
    limits = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        bapi_rate_limit=4,
        rate_reserve=0.0,
        client_rate_share=1.0,  # one test client: the fleet guard, not the share, binds
    )
    service_a = make_app(fake.clerk(**limits, machine_id=a.id))
    service_b = make_app(fake.clerk(**limits, machine_id=b.id))
    statuses = []
    for i in range(6):
        statuses.append((await get(service_a if i % 2 else service_b, fake.api_key())).status_code)
    assert statuses == [200, 200, 200, 200, 503, 503]


# -- a forget made by one service reaches every service of the instance --------------------------


async def test_a_forget_in_one_service_reaches_the_other_services(
    fake: FakeClerk, redis_url: str
) -> None:
    """Services A and B (different receiving machines, so different namespaces) share Redis and
    both cached a valid API key. The key is revoked and A's webhook handler forgets it: B's
    workers refuse it too, a worker of B that already remembers it and a new one that would read
    B's shared result (namespaces keep verdicts apart; a forget must still cross them)."""
    receiver_a, receiver_b = fake.add_machine("a"), fake.add_machine("b")
    shared = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        machine_token_cache_ttl=300,
        negative_cache_ttl=0,
    )
    a = fake.clerk(**shared, machine_id=receiver_a.id)
    b_busy = fake.clerk(**shared, machine_id=receiver_b.id)
    key = fake.api_key()
    assert (await get(make_app(a), key)).status_code == 200
    app_b = make_app(b_busy)
    assert (await get(app_b, key)).status_code == 200
    fake.revoke(key)
    a.forget_token(key)
    # A delivers the forget (retried until Redis takes it); then a new worker of B, which
    # knows the key only from B's shared result, refuses it.
    store_a = a.store
    assert isinstance(store_a, RedisStore)
    for _ in range(500):
        if not store_a.forgets.pending:
            break
        await asyncio.sleep(0.02)
    assert not store_a.forgets.pending
    b_new = fake.clerk(**shared, machine_id=receiver_b.id)
    assert (await get(make_app(b_new), key)).status_code == 401
    # B's busy worker reads the instance's forget log (at most once a second) and drops it.
    for _ in range(300):
        if (await get(app_b, key)).status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert (await get(app_b, key)).status_code == 401
