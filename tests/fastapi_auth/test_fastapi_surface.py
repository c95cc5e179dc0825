"""The FastAPI surface: declaration-time validation, memo, checks, errors, WebSockets, OpenAPI."""

from typing import Annotated, Any

import pytest
from any_app import bearer, client_for
from fastapi import APIRouter, Depends, FastAPI, Security, WebSocket
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from starlette.websockets import WebSocketDisconnect

from clerk_fastapi import (
    AnyAuthDep,
    Auth,
    AuthObject,
    Clerk,
    OptionalSessionDep,
    SessionAuth,
    get_clerk,
)
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


# -- declaration-time validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accepts": "session"}, "unknown token type"),
        ({"accepts": ["m2m_token", "api_kye"]}, "did you mean 'api_key'"),
        ({"accepts": "Session Token"}, "unknown token type"),
        ({"accepts": []}, "at least one"),
        ({"accepts": ["any", "api_key"]}, "'any' cannot be combined"),
        ({"scopes": ["has space"]}, "scopes entries"),
        ({"permissions": ['quo"te']}, "permissions entries"),
        ({"reverification": "sometimes"}, "reverification"),
        ({"scheme_names": {"session": "X"}}, "unknown token types"),
    ],
)
def test_bad_declarations_fail_at_import(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Auth(**kwargs)


def test_unregistered_token_type_fails_when_the_clerk_is_attached(fake_clerk: FakeClerk) -> None:
    app = FastAPI()

    @app.get("/pat")
    async def pat(a: Annotated[Any, Depends(Auth(accepts=["api_key", "pat"]))]) -> None: ...

    with pytest.raises(ValueError, match=r"unknown token type\(s\) \['pat'\]"):
        fake_clerk.clerk().install(app)


def test_misspelt_option_fails_at_import() -> None:
    with pytest.raises(TypeError):
        Auth(scope=["x"])  # type: ignore[call-arg]


def test_machine_token_alias() -> None:
    assert Auth(accepts="machine_token").accepts.single == "m2m_token"
    assert Auth(accepts=["machine_token", "api_key"]).accepts.types == {"m2m_token", "api_key"}


# -- one verification per request --------------------------------------------------------------


async def test_three_auth_dependencies_verify_once(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk()
    auth = Auth(accepts=["m2m_token", "api_key"])

    async def nested(caller: Annotated[Any, Depends(auth)]) -> str:
        return str(caller.subject)

    router = APIRouter(dependencies=[Depends(auth)])

    @router.get("/r")
    async def route(
        a: Annotated[Any, Depends(auth)],
        b: Annotated[Any, Security(auth, scopes=["read"])],
        c: Annotated[str, Depends(nested)],
    ) -> dict[str, str]:
        return {"a": a.subject, "b": b.subject, "c": c}

    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_clerk] = lambda: clerk
    token = fake_clerk.api_key(scopes=["read"])
    async with client_for(app) as client:
        for expected_calls in (1, 2, 3):
            assert (await client.get("/r", headers=bearer(token))).status_code == 200
            assert fake_clerk.hits["api_key_verify"] == expected_calls  # one per request, cache off
    assert clerk.authenticator.verifications == 3


# -- checks -------------------------------------------------------------------------------------


def checks_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = clerk

    @app.get("/scoped")
    async def scoped(
        auth: Annotated[Any, Security(Auth(accepts="any", scopes=["a"]), scopes=["b"])],
    ) -> dict[str, str]:
        return {"t": auth.token_type}

    @app.get("/perm")
    async def perm(
        auth: Annotated[Any, Depends(Auth(accepts="any", permissions=["org:reports:read"]))],
    ) -> dict[str, str]:
        return {"t": auth.token_type}

    @app.get("/role")
    async def role(
        auth: Annotated[SessionAuth, Depends(Auth(roles=["org:admin", "org:owner"]))],
    ) -> dict[str, str]:
        return {"role": str(auth.org_role)}

    @app.get("/feature")
    async def feature(
        auth: Annotated[SessionAuth, Depends(Auth(features=["o:reports"], plans=["u:pro"]))],
    ) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/mfa")
    async def mfa(
        auth: Annotated[SessionAuth, Depends(Auth(reverification="strict"))],
    ) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/optional")
    async def optional(user: OptionalSessionDep) -> dict[str, str | None]:
        return {"user": user.user_id if user else None}

    return app


async def test_scopes_apply_to_machine_tokens_not_sessions(fake_clerk: FakeClerk) -> None:
    app = checks_app(fake_clerk.clerk())
    async with client_for(app) as client:
        assert (
            await client.get("/scoped", headers=bearer(fake_clerk.session_token()))
        ).status_code == 200
        full = fake_clerk.api_key(scopes=["a", "b"])
        assert (await client.get("/scoped", headers=bearer(full))).status_code == 200
        for token in (
            fake_clerk.api_key(scopes=["a"]),
            fake_clerk.oauth_token(scopes=["b"]),
            fake_clerk.m2m_token("jwt", scopes=[]),
        ):
            response = await client.get("/scoped", headers=bearer(token))
            assert response.status_code == 403
            assert "insufficient_scope" in response.headers["www-authenticate"]


async def test_session_checks_and_machine_fail_closed(fake_clerk: FakeClerk) -> None:
    app = checks_app(fake_clerk.clerk())
    member = fake_clerk.session_token(org="org_1", role="member", permissions=["org:reports:read"])
    admin = fake_clerk.session_token(
        org="org_1",
        role="admin",
        features=["u:x"],
        plans=["u:pro"],
        permissions=["org:reports:read"],
    )
    no_org = fake_clerk.session_token()
    async with client_for(app) as client:
        assert (await client.get("/perm", headers=bearer(member))).status_code == 200
        refused = await client.get("/perm", headers=bearer(no_org))
        assert refused.status_code == 403
        assert 'scope="org:reports:read"' in refused.headers["www-authenticate"]
        machine = await client.get("/perm", headers=bearer(fake_clerk.api_key(scopes=["x"])))
        assert machine.status_code == 403  # has() is false for machines: fail closed
        assert 'scope="org:reports:read"' in machine.headers["www-authenticate"]
        assert (await client.get("/role", headers=bearer(admin))).json() == {"role": "org:admin"}
        assert (await client.get("/role", headers=bearer(member))).status_code == 403
        assert (await client.get("/feature", headers=bearer(admin))).status_code == 200
        assert (await client.get("/feature", headers=bearer(member))).status_code == 403
        fresh = fake_clerk.session_token(fva=(3, 3))
        stale = fake_clerk.session_token(fva=(3, 30))
        assert (await client.get("/mfa", headers=bearer(fresh))).status_code == 200
        assert (await client.get("/mfa", headers=bearer(stale))).status_code == 403


async def test_optional_auth(fake_clerk: FakeClerk) -> None:
    app = checks_app(fake_clerk.clerk())
    async with client_for(app) as client:
        assert (await client.get("/optional")).json() == {"user": None}
        signed_in = await client.get(
            "/optional", headers=bearer(fake_clerk.session_token("user_9"))
        )
        assert signed_in.json() == {"user": "user_9"}
        bad = await client.get(
            "/optional", headers=bearer(fake_clerk.broken_session_token("expired"))
        )
        assert bad.status_code == 401


async def test_error_shapes_and_resource_metadata(fake_clerk: FakeClerk) -> None:
    app = FastAPI()
    app.state.clerk = fake_clerk.clerk()

    @app.get("/o")
    async def o(
        auth: Annotated[Any, Depends(Auth(accepts=["session_token", "oauth_token"]))],
    ) -> None:
        return None

    metadata = f'resource_metadata="https://{fake_clerk.frontend_api}/.well-known/oauth-protected-resource"'
    async with client_for(app) as client:
        missing = await client.get("/o")
        assert missing.headers["www-authenticate"] == f"Bearer {metadata}"
        assert missing.json()["detail"]["error"] == "missing_token"
        expired = await client.get("/o", headers=bearer(fake_clerk.broken_session_token("expired")))
        assert expired.json() == {
            "detail": {
                "error": "invalid_token",
                "reason": "session-token-expired-refresh-non-eligible-no-refresh-cookie",
                "message": "The token has expired.",
            }
        }
        assert metadata in expired.headers["www-authenticate"]
        fake_clerk.fail("jwks", "status", status=429, retry_after=9)
        app.state.clerk.clear_caches()
        throttled = await client.get("/o", headers=bearer(fake_clerk.session_token()))
        assert throttled.status_code == 503
        assert throttled.headers["retry-after"] == "9"
        fake_clerk.fail("jwks", "status", status=500)
        default = await client.get("/o", headers=bearer(fake_clerk.session_token()))
        assert default.status_code == 503 and int(default.headers["retry-after"]) >= 1


# -- WebSockets ---------------------------------------------------------------------------------


def test_websocket_accepts_and_closes_with_1008(fake_clerk: FakeClerk) -> None:
    app = FastAPI()
    app.state.clerk = fake_clerk.clerk()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, user: Annotated[SessionAuth, Depends(Auth())]) -> None:
        await websocket.accept()
        await websocket.send_json({"user": user.user_id})
        await websocket.close()

    with TestClient(app) as client:
        with client.websocket_connect(
            "/ws", headers=bearer(fake_clerk.session_token("user_ws"))
        ) as s:
            assert s.receive_json() == {"user": "user_ws"}
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws", headers=bearer(fake_clerk.m2m_token())) as s,
        ):
            s.receive_json()
        assert refused.value.code == 1008
        assert refused.value.reason.startswith("invalid_token:")
        with pytest.raises(WebSocketDisconnect) as missing, client.websocket_connect("/ws") as s:
            s.receive_json()
        assert missing.value.code == 1008


# -- OpenAPI ------------------------------------------------------------------------------------


def openapi_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()

    @app.get("/session")
    async def session(a: Annotated[Any, Depends(Auth())]) -> None: ...

    @app.get("/several")
    async def several(
        a: Annotated[
            Any, Security(Auth(accepts=["session_token", "oauth_token"]), scopes=["profile"])
        ],
    ) -> None: ...

    @app.get("/any")
    async def any_route(a: AnyAuthDep) -> AuthObject:
        return a

    @app.get("/machine")
    async def machine(
        a: Annotated[Any, Security(Auth(accepts="m2m_token", scopes=["jobs:run"]))],
    ) -> None: ...

    @app.get("/renamed")
    async def renamed(
        a: Annotated[Any, Depends(Auth(accepts="api_key", scheme_names={"api_key": "Keys"}))],
    ) -> None: ...

    clerk.install(app)
    return app


def test_openapi_security_schemes_and_requirements(fake_clerk: FakeClerk) -> None:
    doc = openapi_app(fake_clerk.clerk()).openapi()
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"ClerkSession", "ClerkOAuth", "ClerkM2M", "ClerkAPIKey", "Keys"}
    assert (
        schemes["ClerkSession"]["type"] == "http" and schemes["ClerkSession"]["scheme"] == "bearer"
    )
    oauth = schemes["ClerkOAuth"]
    assert oauth["type"] == "oauth2"
    flow = oauth["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"https://{fake_clerk.frontend_api}/oauth/authorize"
    assert flow["tokenUrl"] == f"https://{fake_clerk.frontend_api}/oauth/token"
    paths = doc["paths"]
    assert paths["/session"]["get"]["security"] == [{"ClerkSession": []}]
    assert paths["/several"]["get"]["security"] == [
        {"ClerkSession": []},
        {"ClerkOAuth": ["profile"]},
    ]
    assert paths["/any"]["get"]["security"] == [
        {"ClerkSession": []},
        {"ClerkOAuth": []},
        {"ClerkM2M": []},
        {"ClerkAPIKey": []},
    ]
    assert paths["/machine"]["get"]["security"] == [{"ClerkM2M": ["jobs:run"]}]
    assert paths["/renamed"]["get"]["security"] == [{"Keys": []}]
    schema = paths["/any"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "token_type"
    assert set(schema["discriminator"]["mapping"]) == {
        "session_token",
        "oauth_token",
        "m2m_token",
        "api_key",
    }


def test_openapi_without_publishable_key_and_with_cookie(fake_clerk: FakeClerk) -> None:
    doc = openapi_app(fake_clerk.clerk(publishable_key=None, session_cookie=True)).openapi()
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ClerkOAuth"]["type"] == "http"
    assert "__session" in schemes["ClerkSession"]["description"]


async def test_get_clerk_finds_the_clerk_of_the_lifespan(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk()
    app = FastAPI(lifespan=clerk.lifespan)  # lifespan not run: httpx's ASGITransport skips it

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    async with client_for(app) as client:
        response = await client.get("/me", headers=bearer(fake_clerk.session_token("user_l")))
    assert response.json() == {"user_id": "user_l"}
    assert app.state.clerk is clerk
