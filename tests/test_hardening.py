"""Trust boundaries and configuration mistakes, attacked from outside (issue 16 items 7 and 9-15,
issue 20 item 4): over HTTP through a real FastAPI app, or through the public API."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clerk_fastapi import Clerk, SessionAuth, SessionDep
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> FakeClerk:
    return FakeClerk(clock=FrozenClock())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/me")
    async def me(auth: SessionDep) -> dict[str, Any]:
        assert isinstance(auth, SessionAuth)
        return {"user_id": auth.user_id}

    return app


def client_for(app: FastAPI, client: tuple[str, int] = ("203.0.113.7", 5000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# -- item 10: explicit JSON nesting and size limits ---------------------------------------------


async def test_deeply_nested_claims_are_refused_on_every_python(fake: FakeClerk) -> None:
    # 40 levels parse on every Python (no RecursionError anywhere): only an explicit limit
    # refuses them, so this fails on any version if the limit is gone.
    app = session_app(fake.clerk())
    deep = fake.session_token(deep=nested(40))
    shallow = fake.session_token(deep=nested(30))
    brackets_in_a_string = fake.session_token(note="[" * 5000 + "{" * 5000)
    async with client_for(app) as client:
        refused = await client.get("/me", headers=bearer(deep))
        assert refused.status_code == 401
        assert refused.json()["detail"]["reason"] == "token-invalid"
        assert (await client.get("/me", headers=bearer(shallow))).status_code == 200
        assert (await client.get("/me", headers=bearer(brackets_in_a_string))).status_code == 200


async def test_deep_header_and_oversized_payload_are_refused(fake: FakeClerk) -> None:
    app = session_app(fake.clerk(max_token_length=200_000))
    deep_header = fake.session_token(header={"x": nested(33)})
    big = fake.session_token(pad="a" * (70 * 1024))
    async with client_for(app) as client:
        for token in (deep_header, big):
            answer = await client.get("/me", headers=bearer(token))
            assert answer.status_code == 401
            assert answer.json()["detail"]["reason"] == "token-invalid"


# -- item 14: Backend API ids are checked before any request ------------------------------------


@pytest.mark.parametrize("bad", ["ak_\x00x", "ak_x\r\nHost: evil", "ak_../x", "", "ak_é", "a" * 129])
async def test_backend_api_ids_are_checked_before_any_request(fake: FakeClerk, bad: str) -> None:
    clerk = fake.clerk()
    with pytest.raises(ValueError, match="not a valid Clerk id") as caught:
        await clerk.api_keys.revoke(bad)
    with pytest.raises(ValueError, match="not a valid Clerk id"):
        await clerk.m2m.revoke(bad)
    assert bad not in str(caught.value) or not bad
    assert fake.requests == []
    await clerk.aclose()
