"""Shared fixtures. The project's own tests use only the public testing kit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_support import redis_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def redis_server_url() -> Iterator[str]:
    """One real ``redis-server`` per test module."""
    with redis_server() as (url, _proc):
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The module's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server_url).flushall()
    return redis_server_url
