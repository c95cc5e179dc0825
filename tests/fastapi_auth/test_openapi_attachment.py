"""The OpenAPI document does not depend on how the ``Clerk`` is attached to the app, nor on a
request having been served first (issue 23: ``get_clerk`` used to finish it from inside request
handling, so ``app.state.clerk = fake.clerk()`` left ``ClerkOAuth`` a plain bearer scheme)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Security

from clerk_fastapi import Auth, Clerk, OAuthAuth, SessionAuth, get_clerk
from clerk_fastapi.testing import FakeClerk


def _routes(app: FastAPI) -> FastAPI:
    @app.get("/me")
    async def me(auth: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": auth.user_id}

    @app.get("/notes")
    async def notes(
        auth: Annotated[OAuthAuth, Security(Auth(accepts="oauth_token"), scopes=["notes:read"])],
    ) -> dict[str, str]:
        return {"user_id": auth.user_id}

    @app.get("/jobs")
    async def jobs(
        auth: Annotated[Any, Depends(Auth(accepts=["m2m_token", "api_key"], optional=True))],
    ) -> dict[str, str]:
        return {}

    return app


def _state(clerk: Clerk) -> FastAPI:
    app = _routes(FastAPI())
    app.state.clerk = clerk
    return app


def _install(clerk: Clerk) -> FastAPI:
    app = _routes(FastAPI())
    clerk.install(app)
    return app


def _lifespan(clerk: Clerk) -> FastAPI:
    return _routes(FastAPI(lifespan=clerk.lifespan))


def _override(clerk: Clerk) -> FastAPI:
    app = _routes(FastAPI())
    app.dependency_overrides[get_clerk] = lambda: clerk
    return app


WAYS: dict[str, Callable[[Clerk], FastAPI]] = {
    "app.state.clerk": _state,
    "install": _install,
    "lifespan": _lifespan,
    "dependency_overrides": _override,
}


@pytest.mark.parametrize("cookie", [True, False])
def test_every_way_of_attaching_gives_the_same_document(cookie: bool) -> None:
    fake = FakeClerk()
    documents = {
        way: build(fake.clerk(session_cookie=cookie)).openapi() for way, build in WAYS.items()
    }
    reference = documents["install"]
    oauth = reference["components"]["securitySchemes"]["ClerkOAuth"]
    assert oauth["type"] == "oauth2"
    assert "notes:read" in oauth["flows"]["authorizationCode"]["scopes"]
    assert "401" in reference["paths"]["/me"]["get"]["responses"]
    for way, document in documents.items():
        assert document == reference, way


def test_the_swagger_login_is_set_up_however_the_clerk_is_attached() -> None:
    fake = FakeClerk()
    for way, build in WAYS.items():
        app = build(fake.clerk())
        app.openapi()
        assert app.swagger_ui_init_oauth == {"usePkceWithAuthorizationCodeGrant": True}, way
