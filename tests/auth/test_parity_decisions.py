"""Design section 7 over HTTP: Clerk's reasons in 401 bodies, the cookie path (client_uat,
ambiguous cookies), audience on OAuth and M2M tokens, the issuer, header forms, upstream trouble,
and the per-call machine secret key. Every request goes through a real FastAPI app."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, AuthObject, Clerk
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio

NOW = 1_795_000_000


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """The plugin's ``fake_clerk`` runs on this clock: frozen at ``NOW``."""
    return FrozenClock(NOW)


API = "https://api.example.test"
EXPIRED_GET = "session-token-expired-refresh-non-eligible-no-refresh-cookie"
EXPIRED_OTHER = "session-token-expired-refresh-non-eligible-non-get"


SESSION = Depends(Auth())
ANYTHING = Depends(Auth(accepts="any"))
MACHINES = Depends(Auth(accepts=["oauth_token", "m2m_token", "api_key"]))


def build_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = clerk

    @app.get("/session")
    async def read_session(auth: Annotated[AuthObject, SESSION]) -> dict[str, Any]:
        return {"type": auth.token_type}

    @app.post("/session")
    async def write_session(auth: Annotated[AuthObject, SESSION]) -> dict[str, Any]:
        return {"type": auth.token_type}

    @app.get("/any")
    async def any_route(auth: Annotated[AuthObject, ANYTHING]) -> dict[str, Any]:
        return {"type": auth.token_type, "scopes": getattr(auth, "scopes", None)}

    @app.get("/machines")
    async def machine_route(auth: Annotated[AuthObject, MACHINES]) -> dict[str, Any]:
        return {"type": auth.token_type}

    return app


async def send(
    app: FastAPI,
    path: str,
    *,
    token: str | None = None,
    cookie: str | None = None,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    sent = list(headers or [])
    if token is not None:
        sent.append(("Authorization", f"Bearer {token}"))
    if cookie is not None:
        sent.append(("Cookie", cookie))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        return await client.request(method, path, headers=sent)


def detail(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["detail"]
    return body


def refused(response: httpx.Response, reason: str, status: int = 401) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = detail(response)
    assert body["reason"] == reason, body
    return body


# -- reasons in 401 bodies ----------------------------------------------------------------------


async def test_expired_session_reports_clerks_reason_per_method(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    expired = fake_clerk.broken_session_token("expired")
    body = refused(await send(app, "/session", token=expired), EXPIRED_GET)
    assert body["error"] == "invalid_token"
    assert "expired" in body["message"].lower()  # the message says what failed, in words
    refused(await send(app, "/session", token=expired, method="POST"), EXPIRED_OTHER)
    # A page load (Clerk's handshake) is still a plain 401 with the same reason.
    page = [("Accept", "text/html"), ("Sec-Fetch-Dest", "document")]
    refused(await send(app, "/session", token=expired, headers=page), EXPIRED_GET)
    # With a refresh cookie Clerk would refresh the session; we never do, and say so.
    from clerk_fastapi.auth.cookies import cookie_suffix

    refresh = f"__refresh_{cookie_suffix(fake_clerk.publishable_key)}=opaque-refresh-value"
    refused(
        await send(app, "/session", token=expired, cookie=refresh),
        "session-token-expired-refresh-missing-api-client",
    )


async def test_time_claim_reasons_on_every_path(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk(session_cookie=True))
    early = fake_clerk.broken_session_token("not_yet_valid")
    future_iat = fake_clerk.session_token(iat=NOW + 120)
    for path in ("/session", "/any"):
        refused(await send(app, path, token=early), "session-token-nbf")
        refused(await send(app, path, token=future_iat), "session-token-iat-in-the-future")
    cookie = f"__session={early}; __client_uat={NOW - 300}"
    refused(await send(app, "/session", cookie=cookie), "session-token-nbf")


async def test_machine_only_list_without_a_header(fake_clerk: FakeClerk) -> None:
    response = await send(build_app(fake_clerk.clerk()), "/machines")
    body = refused(response, "token-type-mismatch")
    assert "error" not in body or body["error"] in (None, "missing_token")
    assert "error=" not in response.headers["www-authenticate"]


# -- the cookie path ----------------------------------------------------------------------------


async def test_client_uat_decisions(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk(session_cookie=True))
    token = fake_clerk.session_token()
    ok = await send(app, "/session", cookie=f"__session={token}; __client_uat={NOW - 30}")
    assert ok.status_code == 200, ok.text
    for uat in ("", "; __client_uat=0", "; __client_uat=abc", "; __client_uat="):
        response = await send(app, "/session", cookie=f"__session={token}{uat}")
        refused(response, "session-token-but-no-client-uat")
    refused(
        await send(app, "/session", cookie=f"__client_uat={NOW - 30}"),
        "client-uat-but-no-session-token",
    )
    refused(
        await send(app, "/session", cookie=f"__session={token}; __client_uat={NOW + 30}"),
        "session-token-iat-before-client-uat",
    )
    # Machine tokens never come from a cookie; an opaque one does not even decode as a JWT.
    opaque = f"__session={fake_clerk.api_key()}; __client_uat={NOW - 30}"
    refused(await send(app, "/any", cookie=opaque), "token-invalid")
    refused(
        await send(app, "/session", cookie=f'__session="{token}"; __client_uat=1'), "token-invalid"
    )


async def test_suffixed_cookies_follow_the_publishable_key(fake_clerk: FakeClerk) -> None:
    from clerk_fastapi.auth.cookies import cookie_suffix

    app = build_app(fake_clerk.clerk(session_cookie=True))
    suffix = cookie_suffix(fake_clerk.publishable_key)
    token = fake_clerk.session_token()
    cookie = f"__session_{suffix}={token}; __client_uat_{suffix}={NOW - 30}"
    assert (await send(app, "/session", cookie=cookie)).status_code == 200
    # A suffix of another instance is not ours: nothing was sent.
    other = f"__session_zzzzzzzz={token}; __client_uat_zzzzzzzz={NOW - 30}"
    refused(await send(app, "/session", cookie=other), "session-token-and-uat-missing")


@pytest.mark.parametrize("planted_first", [True, False])
async def test_a_sibling_subdomain_cookie_cannot_win(
    fake_clerk: FakeClerk, planted_first: bool
) -> None:
    """Cookie tossing: a sibling subdomain plants its own __session (a valid token of another
    user). Whatever the order, the request is refused; neither user is signed in."""
    app = build_app(fake_clerk.clerk(session_cookie=True))
    victim = fake_clerk.session_token("user_victim")
    attacker = fake_clerk.session_token("user_attacker")
    pair = [f"__session={attacker}", f"__session={victim}"]
    if not planted_first:
        pair.reverse()
    cookie = "; ".join([*pair, f"__client_uat={NOW - 30}"])
    body = refused(await send(app, "/session", cookie=cookie), "token-invalid")
    assert "__session" in body["message"]
    # Two identical copies are not ambiguous.
    same = f"__session={victim}; __session={victim}; __client_uat={NOW - 30}"
    assert (await send(app, "/session", cookie=same)).status_code == 200


# -- audience and issuer ------------------------------------------------------------------------


async def test_audience_on_oauth_tokens_is_required(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk(audience=[API]))
    good = fake_clerk.oauth_token(aud=[API])
    assert (await send(app, "/any", token=good)).status_code == 200
    for token in (fake_clerk.oauth_token(), fake_clerk.oauth_token(aud=["https://other.test"])):
        refused(await send(app, "/any", token=token), "token-verification-failed")
    # Opaque: the verify answer's aud is checked the same way.
    base = {
        "object": "clerk_idp_oauth_access_token",
        "id": "oat_1",
        "client_id": "client_1",
        "subject": "user_1",
        "scopes": ["profile"],
        "expiration": (NOW + 600) * 1000,
    }
    for name, aud, status in (("a", [API], 200), ("b", API, 200), ("c", None, 401)):
        token = f"oat_{name * 32}"
        fake_clerk.register_opaque(token, "oauth_token", {**base, "aud": aud})
        response = await send(app, "/any", token=token)
        assert response.status_code == status, response.text
    other = "oat_" + "d" * 32
    fake_clerk.register_opaque(other, "oauth_token", {**base, "aud": ["https://other.test"]})
    refused(await send(app, "/any", token=other), "token-verification-failed")


async def test_audience_on_m2m_jwts_is_checked_only_when_present(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk(audience=[API]))
    no_aud = fake_clerk.m2m_token("jwt")  # aud is the (empty) scope list
    assert (await send(app, "/any", token=no_aud)).status_code == 200
    listed = fake_clerk.m2m_token("jwt", scopes=[API])
    assert (await send(app, "/any", token=listed)).status_code == 200
    foreign = fake_clerk.m2m_token("jwt", scopes=["mch_other"])
    refused(await send(app, "/any", token=foreign), "token-verification-failed")


async def test_session_audience_stays_required(fake_clerk: FakeClerk) -> None:
    # Our kept deviation: an audience setting a token could skip by omitting aud protects nothing.
    app = build_app(fake_clerk.clerk(audience=[API]))
    assert (await send(app, "/session", token=fake_clerk.session_token(aud=API))).status_code == 200
    for aud in (None, [1, 2]):
        token = fake_clerk.session_token(aud=aud) if aud else fake_clerk.session_token()
        refused(await send(app, "/session", token=token), "token-verification-failed")


async def test_issuer_applies_to_session_tokens_only(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk(issuer="https://clerk.other.test"))
    refused(await send(app, "/session", token=fake_clerk.session_token()), "token-invalid-issuer")
    # Clerk does not apply `issuer` to machine JWTs.
    for token in (fake_clerk.m2m_token("jwt"), fake_clerk.oauth_token()):
        assert (await send(app, "/any", token=token)).status_code == 200
    exact = build_app(fake_clerk.clerk(issuer=fake_clerk.issuer))
    assert (await send(exact, "/session", token=fake_clerk.session_token())).status_code == 200


# -- header forms -------------------------------------------------------------------------------


async def test_header_forms(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    token = fake_clerk.session_token()
    for value in ("Bearer", "Bearer ", f"Bearer {token} {token}"):
        response = await send(app, "/session", headers=[("Authorization", value)])
        assert response.status_code == 400, value
        assert 'error="invalid_request"' in response.headers["www-authenticate"]
    two = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    assert (await send(app, "/session", headers=two)).status_code == 400
    # Clerk's reading elsewhere: two spaces make the word "Bearer" the token; empty is nothing.
    spaced = await send(app, "/session", headers=[("Authorization", f"Bearer  {token}")])
    refused(spaced, "token-invalid")
    empty = await send(app, "/session", headers=[("Authorization", "")])
    refused(empty, "session-token-and-uat-missing")
    assert (await send(app, "/session", headers=[("Authorization", f"bearer {token}")])).is_success


# -- upstream trouble and answers ---------------------------------------------------------------


async def test_jwks_trouble_is_503_with_clerks_reason(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    fake_clerk.fail("jwks", "down")
    response = await send(app, "/any", token=fake_clerk.session_token())
    refused(response, "unexpected-error", status=503)
    refused(
        await send(app, "/any", token=fake_clerk.m2m_token("jwt")), "token-verification-failed", 503
    )
    fake_clerk.heal()
    fake_clerk.jwks_override = {"keys": []}
    refused(
        await send(app, "/any", token=fake_clerk.session_token()), "jwk-remote-failed-to-load", 503
    )


async def test_null_scopes_in_a_verify_answer_are_an_empty_list(fake_clerk: FakeClerk) -> None:
    app = build_app(fake_clerk.clerk())
    token = "oat_" + "n" * 32
    fake_clerk.register_opaque(
        token,
        "oauth_token",
        {"id": "oat_n", "subject": "user_1", "scopes": None, "expiration": (NOW + 60) * 1000},
    )
    response = await send(app, "/any", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"type": "oauth_token", "scopes": []}


async def test_per_call_machine_secret_key(fake_clerk: FakeClerk) -> None:
    from starlette.requests import Request

    clerk = fake_clerk.clerk()
    token = fake_clerk.m2m_token()

    def request() -> Request:
        headers = [(b"authorization", f"Bearer {token}".encode())]
        return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})

    good = await clerk.authenticate_request(
        request(), "m2m_token", machine_secret_key=fake_clerk.machine_secret_key
    )
    assert good.status == "signed-in"
    sent = [
        r.headers.get("authorization") for r in fake_clerk.requests if r.endpoint == "m2m_verify"
    ]
    assert sent == [f"Bearer {fake_clerk.machine_secret_key}"]
    # A wrong per-call key is used too (Clerk refuses it: upstream trouble, never a sign-in).
    wrong = await clerk.authenticate_token(token, "m2m_token", machine_secret_key="ak_" + "w" * 40)
    assert (wrong.status, wrong.error) == ("signed-out", "unavailable")
    # Without one, the configured secret key verifies it.
    plain = await clerk.authenticate_token(token, "m2m_token")
    assert plain.status == "signed-in"
