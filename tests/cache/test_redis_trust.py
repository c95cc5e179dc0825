"""Several services and several Clerk instances share one Redis (a real redis-server), with no
write access assumed: only what the deployments themselves put there. Each service refuses
exactly what it would refuse on its own (docs/scaling.md, "What is shared, keyed by what").
"""

from __future__ import annotations

from typing import Any

import pytest
from any_app import get, make_app
from redis_support import forgets_delivered

from clerk_fastapi import Clerk
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
TIMEOUT = 5.0
CACHE_SECRET = "one-cache-secret-for-every-instance-" + "x" * 16


async def answers(clerk: Clerk, token: str) -> tuple[int, Any]:
    response = await get(make_app(clerk), token)
    body = response.json()
    return response.status_code, body.get("scoped") if response.status_code == 200 else None


# -- two services of one instance: different receiving machines ----------------------------------


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
async def test_service_b_never_serves_service_a_receiver_verdict(
    fake_clerk: FakeClerk, redis_url: str, token_format: str
) -> None:
    """Same secret key, same Redis, different CLERK_MACHINE_ID: a caller's token scoped only to
    A is ``scoped_to_receiver=True`` at A and ``False`` at B, in either order."""
    receiver_a, receiver_b = fake_clerk.add_machine("a"), fake_clerk.add_machine("b")
    caller = fake_clerk.add_machine("caller", scoped_machines=[receiver_a.id])
    shared = dict(cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=60)
    alone_b = fake_clerk.clerk(machine_id=receiver_b.id, machine_token_cache_ttl=60)
    for first, second in (("a", "b"), ("b", "a")):
        token = fake_clerk.m2m_token(token_format, machine_id=caller.id, scopes=[receiver_a.id])  # type: ignore[arg-type]
        services = {
            "a": fake_clerk.clerk(**shared, machine_id=receiver_a.id),
            "b": fake_clerk.clerk(**shared, machine_id=receiver_b.id),
        }
        await answers(services[first], token)
        assert await answers(services["a"], token) == (200, True)
        assert await answers(services["b"], token) == (200, False)
        assert await answers(services[second], token) == await answers(
            alone_b if second == "b" else fake_clerk.clerk(machine_id=receiver_a.id), token
        )


@pytest.mark.parametrize("opaque_cache_ttl", [60.0, 0.0])
async def test_a_token_clerk_refuses_to_b_machine_key_is_refused_at_b(
    fake_clerk: FakeClerk, redis_url: str, opaque_cache_ttl: float
) -> None:
    """Different CLERK_MACHINE_SECRET_KEY: Clerk verifies an opaque M2M token per machine. A's
    verdict must not reach B, neither from the opaque cache nor from the fleet's coalescing."""
    fake_clerk.machine_verify_requires_scope = True
    receiver_a, receiver_b = fake_clerk.add_machine("a"), fake_clerk.add_machine("b")
    caller = fake_clerk.add_machine("caller", scoped_machines=[receiver_a.id])
    token = fake_clerk.m2m_token(machine_id=caller.id, scopes=[receiver_a.id])
    shared = dict(
        cache_url=redis_url, cache_timeout=TIMEOUT, machine_token_cache_ttl=opaque_cache_ttl
    )
    a = fake_clerk.clerk(**shared, machine_secret_key=receiver_a.secret_key)
    b = fake_clerk.clerk(**shared, machine_secret_key=receiver_b.secret_key)
    alone_b = fake_clerk.clerk(machine_secret_key=receiver_b.secret_key)
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

    def networkless(fake_clerk: FakeClerk) -> Clerk:
        return fake_clerk.clerk(
            **shared, secret_key=None, jwt_key=fake_clerk.signing_key.public_pem()
        )

    token = one.session_token("user_one")
    assert (await get(make_app(networkless(one)), token)).status_code == 200
    assert (await get(make_app(networkless(two)), token)).status_code == 401


async def test_workers_of_one_service_still_share(fake_clerk: FakeClerk, redis_url: str) -> None:
    """The boundary is the service, not the process: a second worker with the same settings
    answers from Redis without asking Clerk."""
    shared = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        cache_secret=CACHE_SECRET,
        machine_token_cache_ttl=60,
        machine_id=fake_clerk.default_machine_id,
    )
    key = fake_clerk.api_key()
    assert (await get(make_app(fake_clerk.clerk(**shared)), key)).status_code == 200
    hits = fake_clerk.hits["api_key_verify"]
    assert (await get(make_app(fake_clerk.clerk(**shared)), key)).status_code == 200
    assert fake_clerk.hits["api_key_verify"] == hits


async def test_services_of_one_instance_share_the_fleet_rate_limit(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """Clerk limits per instance: two services (different receiving machines) draw on one
    fleet-wide CLERK_BAPI_RATE_LIMIT, not one each."""
    a, b = fake_clerk.add_machine("a"), fake_clerk.add_machine("b")
    limits = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        bapi_rate_limit=4,
        rate_reserve=0.0,
        client_rate_share=1.0,  # one test client: the fleet guard, not the share, binds
    )
    service_a = make_app(fake_clerk.clerk(**limits, machine_id=a.id))
    service_b = make_app(fake_clerk.clerk(**limits, machine_id=b.id))
    statuses = []
    for i in range(6):
        statuses.append(
            (await get(service_a if i % 2 else service_b, fake_clerk.api_key())).status_code
        )
    assert statuses == [200, 200, 200, 200, 503, 503]


# -- a forget made by one service reaches every service of the instance --------------------------


async def test_a_forget_in_one_service_reaches_the_other_services(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """Services A and B (different receiving machines, so different namespaces) share Redis and
    both cached a valid API key. The key is revoked and A's webhook handler forgets it: B's
    workers refuse it too, a worker of B that already remembers it and a new one that would read
    B's shared result (namespaces keep verdicts apart; a forget must still cross them)."""
    receiver_a, receiver_b = fake_clerk.add_machine("a"), fake_clerk.add_machine("b")
    shared = dict(
        cache_url=redis_url,
        cache_timeout=TIMEOUT,
        machine_token_cache_ttl=300,
        negative_cache_ttl=0,
    )
    a = fake_clerk.clerk(**shared, machine_id=receiver_a.id)
    b_busy = fake_clerk.clerk(**shared, machine_id=receiver_b.id)
    key = fake_clerk.api_key()
    assert (await get(make_app(a), key)).status_code == 200
    app_b = make_app(b_busy)
    assert (await get(app_b, key)).status_code == 200
    fake_clerk.revoke(key)
    a.forget_token(key)
    # A delivers the forget (retried until Redis takes it); then a new worker of B, which
    # knows the key only from B's shared result, refuses it.
    await forgets_delivered(a)
    b_new = fake_clerk.clerk(**shared, machine_id=receiver_b.id)
    assert (await get(make_app(b_new), key)).status_code == 401
    # B's busy worker reads the instance's forget log (at most once a second) and drops it.
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(1.1)
    assert (await get(app_b, key)).status_code == 401
