"""What the OpenAPI document of the example app says about ``Auth``'s answers, scopes and
optional routes, checked against what the app really answers."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from openapi_spec_validator import validate

from clerk_fastapi import Auth, SessionAuth
from clerk_fastapi.fastapi_auth.error_models import ClerkErrorBody
from clerk_fastapi.testing import FakeClerk
from example_app.app import create_app


@pytest.fixture
def document(fake_clerk: FakeClerk) -> dict[str, Any]:
    app = create_app(fake_clerk.clerk())
    schema: dict[str, Any] = app.openapi()
    return schema


def test_the_document_is_valid(document: dict[str, Any]) -> None:
    validate(document)


def test_protected_operations_document_their_error_answers(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path, method in [("/notes", "get"), ("/jobs/reindex", "post"), ("/me", "get")]:
        responses = paths[path][method]["responses"]
        for status in ("400", "401", "503"):
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ClerkError"}
        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "WWW-Authenticate" in responses["400"]["headers"]
        assert "Retry-After" in responses["503"]["headers"]
        assert "403" not in responses  # nothing to lack: no scope, permission or role
    for path, method in [("/reports", "get"), ("/profile", "get"), ("/api/notes", "post")]:
        assert "WWW-Authenticate" in paths[path][method]["responses"]["403"]["headers"]
    assert set(paths["/health"]["get"]["responses"]) == {"200"}
    detail = document["components"]["schemas"]["ClerkErrorDetail"]
    assert set(detail["required"]) == {"error", "reason", "message"}


def test_optional_routes_list_the_anonymous_alternative(document: dict[str, Any]) -> None:
    assert {} in document["paths"]["/feed"]["get"]["security"]
    assert {} not in document["paths"]["/notes"]["get"]["security"]
    assert "security" not in document["paths"]["/health"]["get"]


def test_the_oauth_scheme_lists_the_scopes_routes_use(document: dict[str, Any]) -> None:
    flow = document["components"]["securitySchemes"]["ClerkOAuth"]["flows"]["authorizationCode"]
    assert flow["scopes"] == {"profile": "Required by GET /profile"}


@pytest.mark.anyio
async def test_real_answers_match_the_documented_body(fake_clerk: FakeClerk) -> None:
    app = create_app(fake_clerk.clerk())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        missing = await client.get("/notes")
        malformed = await client.get("/notes", headers={"Authorization": "Bearer "})
        oauth = fake_clerk.oauth_token(scopes=["email"])
        forbidden = await client.get("/profile", headers={"Authorization": f"Bearer {oauth}"})
        fake_clerk.fail("m2m_verify", "down")
        m2m = fake_clerk.m2m_token()
        down = await client.post("/jobs/reindex", headers={"Authorization": f"Bearer {m2m}"})
    seen = {}
    for response in (missing, malformed, forbidden, down):
        seen[response.status_code] = ClerkErrorBody.model_validate(response.json()).detail.error
    assert seen == {
        401: "missing_token",
        400: "invalid_request",
        403: "insufficient_scope",
        503: "temporarily_unavailable",
    }
    assert "retry-after" in down.headers


def test_answers_a_route_declares_itself_are_kept(fake_clerk: FakeClerk) -> None:
    app = FastAPI()

    @app.get("/me", responses={401: {"description": "Sign in first."}})
    async def me(user: Annotated[SessionAuth, Depends(Auth(optional=True))]) -> None:
        return None

    fake_clerk.clerk().install(app)
    operation = app.openapi()["paths"]["/me"]["get"]
    assert operation["responses"]["401"] == {"description": "Sign in first."}
    assert operation["security"] == [{"ClerkSession": []}, {}]
