"""The public testing kit: minting, broken variants, faults, CLI, serve, override_auth."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Security

from clerk_fastapi import (
    APIKeyAuth,
    Auth,
    AuthObject,
    Clerk,
    M2MAuth,
    OAuthAuth,
    SessionAuth,
)
from clerk_fastapi.testing import FakeClerk, override_auth

pytestmark = pytest.mark.anyio


def build_app(clerk: Clerk | None = None) -> FastAPI:
    app = FastAPI()
    if clerk is not None:
        app.state.clerk = clerk

    @app.get("/any")
    async def any_route(auth: Annotated[AuthObject, Depends(Auth(accepts="any"))]) -> AuthObject:
        return auth

    @app.get("/reports")
    async def reports(
        user: Annotated[SessionAuth, Depends(Auth(permissions=["org:reports:read"]))],
    ) -> dict[str, str | None]:
        return {"org": user.org_id}

    @app.get("/keys")
    async def keys(
        key: Annotated[APIKeyAuth, Security(Auth(accepts="api_key"), scopes=["read"])],
    ) -> dict[str, str]:
        return {"subject": key.subject}

    return app


async def call(app: FastAPI, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_every_minted_type_verifies(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    machine = fake_clerk.default_machine_id
    # token, the principal it must become, and the fields that identify it: fixed in advance.
    cases: list[tuple[str, type[Any], dict[str, Any]]] = [
        (
            fake_clerk.session_token(
                "user_1", org="org_1", role="admin", permissions=["org:a:read"]
            ),
            SessionAuth,
            {"user_id": "user_1", "org_id": "org_1", "org_role": "org:admin"},
        ),
        (
            fake_clerk.session_token("user_1", version=1, org="org_1", role="admin"),
            SessionAuth,
            {"user_id": "user_1", "org_id": "org_1", "org_role": "org:admin"},
        ),
        (
            fake_clerk.oauth_token("jwt", scopes=["profile"], user_id="user_1"),
            OAuthAuth,
            {"user_id": "user_1", "scopes": ["profile"]},
        ),
        (fake_clerk.oauth_token("jwt", typ="application/at+jwt"), OAuthAuth, {}),
        (fake_clerk.oauth_token("opaque", scopes=["email"]), OAuthAuth, {"scopes": ["email"]}),
        (
            fake_clerk.m2m_token("opaque", scopes=["mch_other"]),
            M2MAuth,
            {"machine_id": machine, "scopes": ["mch_other"]},
        ),
        (fake_clerk.m2m_token("jwt", claims={"role": "worker"}), M2MAuth, {"machine_id": machine}),
        (
            fake_clerk.api_key(subject="org_1", scopes=["read"], claims={"tier": "gold"}),
            APIKeyAuth,
            {"subject": "org_1", "org_id": "org_1", "scopes": ["read"]},
        ),
    ]
    for token, model, expected in cases:
        response = await call(app, "/any", token)
        assert response.status_code == 200, response.text
        principal = model.model_validate(response.json())
        expected = {"token_type": model.model_fields["token_type"].default, **expected}
        assert {name: getattr(principal, name) for name in expected} == expected, token
    session = (await call(app, "/any", cases[0][0])).json()
    assert session["org_role"] == "org:admin" and session["org_permissions"] == ["org:a:read"]
    m2m_jwt = (await call(app, "/any", cases[6][0])).json()
    assert m2m_jwt["claims"]["role"] == "worker"
    key = (await call(app, "/any", cases[7][0])).json()
    assert key["org_id"] == "org_1" and key["claims"] == {"tier": "gold"}


def test_token_shapes_match_clerk(fake_clerk: FakeClerk) -> None:
    from clerk_fastapi.jose.compact import parse_compact

    session = parse_compact(fake_clerk.session_token())
    assert session.header == {
        "alg": "RS256",
        "kid": "ins_test1",
        "typ": "JWT",
        "cat": "cl_B7d4PD111AAA",
    }
    assert {"azp", "exp", "iat", "iss", "nbf", "sid", "sub", "v", "sts"} <= set(session.payload)
    assert session.payload["exp"] - session.payload["iat"] == 60
    oauth = parse_compact(fake_clerk.oauth_token())
    assert oauth.header["typ"] == "at+jwt" and oauth.payload["jti"].startswith("oat_")
    m2m = parse_compact(fake_clerk.m2m_token("jwt"))
    assert m2m.header["cat"] == "cl_B7d4PD333AAA" and m2m.payload["sub"].startswith("mch_")
    assert fake_clerk.m2m_token().startswith("mt_") and fake_clerk.api_key().startswith("ak_")
    assert fake_clerk.oauth_token("opaque").startswith("oat_")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "session-token-expired-refresh-non-eligible-no-refresh-cookie"),
        ("not_yet_valid", "session-token-nbf"),
        ("wrong_key", "token-invalid-signature"),
        ("wrong_azp", "token-invalid-authorized-parties"),
        ("wrong_cat", "token-type-mismatch"),
        ("bad_signature", "token-invalid-signature"),
    ],
)
async def test_broken_variants_fail_with_the_right_reason(
    fake_clerk: FakeClerk, kind: Any, reason: str
) -> None:
    app = build_app(fake_clerk.clerk(authorized_parties=[fake_clerk.authorized_party]))
    response = await call(app, "/any", fake_clerk.broken_session_token(kind))
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == reason


async def test_revoke_and_faults(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    key = fake_clerk.api_key(scopes=["read"])
    assert (await call(app, "/keys", key)).status_code == 200
    fake_clerk.revoke(key)
    assert (await call(app, "/keys", key)).status_code == 401
    other = fake_clerk.api_key(scopes=["read"])
    fake_clerk.fail("api_key_verify", "status", status=429, retry_after=7)
    throttled = await call(app, "/keys", other)
    assert throttled.status_code == 503 and throttled.headers["retry-after"] == "7"
    fake_clerk.fail("api_key_verify", "status", status=500, times=1)
    assert (await call(app, "/keys", other)).status_code == 503
    assert (await call(app, "/keys", other)).status_code == 200  # the fault was for one call
    assert fake_clerk.hits["api_key_verify"] == 5


async def test_override_auth_still_applies_the_route_checks() -> None:
    app = build_app()
    admin = SessionAuth(
        user_id="user_1", org_id="org_1", org_role="org:admin", org_permissions=["org:reports:read"]
    )
    with override_auth(app, admin):
        assert (await call(app, "/reports")).json() == {"org": "org_1"}
        assert (await call(app, "/keys")).status_code == 401  # sessions are not API keys
    with override_auth(app, SessionAuth(user_id="user_2")):
        assert (await call(app, "/reports")).status_code == 403
    with override_auth(app, APIKeyAuth(id="ak_1", subject="user_3", scopes=["read"])):
        assert (await call(app, "/keys")).json() == {"subject": "user_3"}
    assert not app.dependency_overrides


def test_cli_mint_prints_a_verifiable_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clerk_fastapi.testing", "mint", "session", "--user-id", "user_cli"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip()
    pem = result.stderr.split("(PEM):\n", 1)[1].strip()
    clerk = Clerk(jwt_key=pem)
    import asyncio

    state = asyncio.run(clerk.authenticate_token(token))
    assert state.status == "signed-in" and state.to_auth().user_id == "user_cli"


async def test_serve_on_a_real_port(fake_clerk: FakeClerk) -> None:
    with fake_clerk.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        app = build_app(fake_clerk.clerk(use_network=True))
        assert (await call(app, "/any", fake_clerk.m2m_token())).status_code == 200
        assert (await call(app, "/any", fake_clerk.session_token())).status_code == 200
    assert fake_clerk.hits["m2m_verify"] == 1 and fake_clerk.hits["jwks"] == 1


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "mch_impostor", "scopes": "mch_admin", "aud": ["mch_admin"]},
        {"iss": "https://evil.test", "exp": 4102444800, "jti": "mt_chosen", "iat": 0, "nbf": 0},
    ],
)
def test_m2m_jwt_reserved_claims_are_clerks_whatever_the_claims_say(
    claims: dict[str, Any],
) -> None:
    """Clerk sets ``jti``, ``sub``, ``aud``, ``scopes``, ``iat`` and ``exp`` itself and adds no
    ``iss`` or ``nbf`` (its create answer, tests/data/clerk/m2m-jwts.json); a caller's
    ``claims`` only add (issue 24 item 5, issue 26)."""
    fake = FakeClerk()
    machine = fake.add_machine("caller")
    token = fake.m2m_token(
        "jwt", machine_id=machine.id, scopes=["mch_b"], claims={**claims, "tier": "gold"}
    )
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload["sub"] == machine.id
    assert payload["scopes"] == "mch_b" and payload["aud"] == ["mch_b"]
    assert payload["jti"].startswith("mt_") and payload["jti"] != "mt_chosen"
    assert payload["iat"] > 0 and payload["exp"] < 4102444800
    assert payload["tier"] == "gold"
    # Exactly Clerk's claims plus the caller's own: a JS test asserting ``claims == {...}`` holds.
    assert set(payload) == {"jti", "sub", "aud", "scopes", "iat", "exp", "tier"}
