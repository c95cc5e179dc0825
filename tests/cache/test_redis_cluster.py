"""The shared tier on a real Redis Cluster of three masters (issue 25, item 5): results shared,
opaque calls coalesced and forgets delivered across shards, with hash-tagged keys."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from any_app import bearer, client
from redis_support import forgets_delivered, redis_cluster

from clerk_fastapi import Clerk
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_cluster(str(tmp_path_factory.mktemp("cluster"))) as url:
        yield url


def on_cluster(fake: FakeClerk, url: str, **settings: object) -> Clerk:
    return fake.clerk(cache_url=url, cache_cluster=True, cache_timeout=TIMEOUT, **settings)


async def test_results_are_shared_across_shards(fake_clerk: FakeClerk, cluster_url: str) -> None:
    tokens = [fake_clerk.session_token(f"user_{i}") for i in range(30)]
    first, second = on_cluster(fake_clerk, cluster_url), on_cluster(fake_clerk, cluster_url)
    async with client(first) as c:
        for token in tokens:
            assert (await c.get("/any", headers=bearer(token))).status_code == 200
    jwks = fake_clerk.hits["jwks"]
    async with client(second) as c:
        for token in tokens:
            assert (await c.get("/any", headers=bearer(token))).status_code == 200
    assert fake_clerk.hits["jwks"] == jwks  # every result came from the cluster
    # The 30 results live on more than one shard: the cluster is really used as one.
    nodes = redis.RedisCluster.from_url(cluster_url).get_primaries()
    holding = [n for n in nodes if redis.Redis(host=n.host, port=n.port).dbsize() > 0]
    assert len(holding) > 1


async def test_opaque_calls_coalesce_across_workers(
    fake_clerk: FakeClerk, cluster_url: str
) -> None:
    workers = [on_cluster(fake_clerk, cluster_url, coalesce_window=10) for _ in range(3)]
    token = fake_clerk.m2m_token()
    fake_clerk.fail("m2m_verify", "slow", delay=0.3)  # so the requests overlap
    async with client(workers[0]) as a, client(workers[1]) as b, client(workers[2]) as c:
        responses = await asyncio.gather(
            *((a, b, c)[i % 3].get("/any", headers=bearer(token)) for i in range(30))
        )
    fake_clerk.heal()
    assert [r.status_code for r in responses] == [200] * 30
    assert fake_clerk.hits["m2m_verify"] == 1


async def test_a_forget_reaches_every_worker(fake_clerk: FakeClerk, cluster_url: str) -> None:
    settings = {"machine_token_cache_ttl": 300}
    webhook, reader = (
        on_cluster(fake_clerk, cluster_url, **settings),
        on_cluster(fake_clerk, cluster_url, **settings),
    )
    tokens = [fake_clerk.api_key() for _ in range(10)]  # on several shards
    async with client(webhook) as cw, client(reader) as cr:
        for token in tokens:
            assert (await cw.get("/any", headers=bearer(token))).status_code == 200
            assert (await cr.get("/any", headers=bearer(token))).status_code == 200
        for token in tokens:
            fake_clerk.revoke(token)
            webhook.forget_token(token)
        await forgets_delivered(webhook)
        clock = fake_clerk.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(1.1)  # the reader's forget-log interval
        statuses = [(await cr.get("/any", headers=bearer(t))).status_code for t in tokens]
    assert statuses == [401] * 10
