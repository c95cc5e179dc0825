"""One request, one context: ``Auth`` goes through ``Clerk.authenticate_request`` (its one public
entry point) on every request, cached or not, and a request keeps one thing in its ASGI scope."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from clerk_fastapi import Auth, Clerk, SessionAuth
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


class CountingClerk(Clerk):
    """A ``Clerk`` whose public entry point counts its callers."""

    calls = 0

    async def authenticate_request(self, request: Any, accepts: Any = "session_token", **kw: Any):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        return await super().authenticate_request(request, accepts, **kw)


async def test_auth_goes_through_the_public_entry_point_even_when_cached(
    fake_clerk: FakeClerk,
) -> None:
    clerk = CountingClerk(
        fake_clerk.settings(), transport=fake_clerk.transport(), clock=fake_clerk.clock
    )
    app = FastAPI()
    clerk.install(app)

    @app.get("/me")
    async def me(auth: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": auth.user_id}

    token = fake_clerk.session_token(user_id="user_1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):  # cold, first reuse, steady use
            response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
    assert CountingClerk.calls == 3
    assert clerk.authenticator.verifications == 1


async def test_a_request_keeps_one_context_in_its_scope(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk()
    app = FastAPI()
    clerk.install(app)
    seen: list[list[str]] = []

    @app.get("/both")
    async def both(
        request: Request,
        first: Annotated[SessionAuth, Depends(Auth())],
        second: Annotated[Any, Depends(Auth(accepts=["session_token", "api_key"]))],
    ) -> dict[str, bool]:
        seen.append(sorted(k for k in request.scope if k.startswith("clerk_fastapi")))
        return {"same": first == second}

    token = fake_clerk.session_token(user_id="user_1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/both", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"same": True}
    assert seen == [["clerk_fastapi.context"]]
    assert clerk.authenticator.verifications == 1  # two Auth, one verification
