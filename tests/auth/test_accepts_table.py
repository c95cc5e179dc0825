"""clerk-backend-behaviour.md section 6.1 (`acceptsToken` in authenticateRequest), row by row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.requests import Request

from clerk_fastapi import Clerk
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio
Mint = Callable[[FakeClerk], str | None]

session: Mint = lambda f: f.session_token()  # noqa: E731
m2m_jwt: Mint = lambda f: f.m2m_token("jwt")  # noqa: E731
template: Mint = lambda f: f.broken_session_token("wrong_cat")  # noqa: E731
m2m: Mint = lambda f: f.m2m_token()  # noqa: E731
api_key: Mint = lambda f: f.api_key()  # noqa: E731
oauth: Mint = lambda f: f.oauth_token("opaque")  # noqa: E731
nothing: Mint = lambda f: None  # noqa: E731

# (accepts, header token, expected status, token_type, reason, backend calls allowed)
ROWS: list[tuple[Any, Mint, str, str | None, str | None, bool]] = [
    (
        "session_token",
        nothing,
        "signed-out",
        "session_token",
        "session-token-and-uat-missing",
        False,
    ),
    ("session_token", session, "signed-in", "session_token", None, False),
    ("session_token", m2m_jwt, "signed-out", "session_token", "token-type-mismatch", False),
    ("session_token", template, "signed-out", "session_token", "token-type-mismatch", False),
    ("session_token", api_key, "signed-out", "session_token", "token-invalid", False),
    ("session_token", m2m, "signed-out", "session_token", "token-invalid", False),
    ("session_token", oauth, "signed-out", "session_token", "token-invalid", False),
    ("m2m_token", m2m, "signed-in", "m2m_token", None, True),
    ("api_key", api_key, "signed-in", "api_key", None, True),
    ("oauth_token", oauth, "signed-in", "oauth_token", None, True),
    ("api_key", m2m, "signed-out", "api_key", "token-type-mismatch", False),
    ("m2m_token", oauth, "signed-out", "m2m_token", "token-type-mismatch", False),
    ("m2m_token", session, "signed-out", "m2m_token", "token-type-mismatch", False),
    ("api_key", nothing, "signed-out", "api_key", "No token in header", False),
    ("any", m2m, "signed-in", "m2m_token", None, True),
    ("any", m2m_jwt, "signed-in", "m2m_token", None, False),
    ("any", session, "signed-in", "session_token", None, False),
    ("any", nothing, "signed-out", "session_token", "session-token-and-uat-missing", False),
    (["api_key", "oauth_token"], session, "signed-out", None, "token-type-mismatch", False),
    (["api_key", "oauth_token"], m2m, "signed-out", None, "token-type-mismatch", False),
    (["api_key", "session_token"], session, "signed-in", "session_token", None, False),
    (["api_key", "session_token"], api_key, "signed-in", "api_key", None, True),
    (
        ["session_token", "m2m_token"],
        nothing,
        "signed-out",
        "session_token",
        "session-token-and-uat-missing",
        False,
    ),
]


def request(token: str | None, cookie: str | None = None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(("accepts", "mint", "status", "token_type", "reason", "calls"), ROWS)
async def test_row(
    fake_clerk: FakeClerk,
    accepts: Any,
    mint: Mint,
    status: str,
    token_type: str | None,
    reason: str | None,
    calls: bool,
) -> None:
    clerk: Clerk = fake_clerk.clerk()
    token = mint(fake_clerk)
    state = await clerk.authenticate_request(request(token), accepts)
    assert (state.status, state.token_type, state.reason) == (status, token_type, reason)
    backend = sum(v for k, v in fake_clerk.hits.items() if k != "jwks")
    assert (backend > 0) == calls  # a type the route refuses never reaches Clerk


async def test_machine_only_route_ignores_the_session_cookie(fake_clerk: FakeClerk) -> None:
    """ "none (even if a __session cookie exists)" -> No token in header."""
    clerk = fake_clerk.clerk(session_cookie=True)
    cookie = f"__session={fake_clerk.session_token()}"
    state = await clerk.authenticate_request(request(None, cookie), "m2m_token")
    assert (state.token_type, state.reason) == ("m2m_token", "No token in header")
    machine_in_cookie = await clerk.authenticate_request(
        request(None, f"__session={fake_clerk.m2m_token('jwt')}; __client_uat=1"), "any"
    )
    assert machine_in_cookie.reason == "token-type-mismatch"  # machine tokens never from cookies


async def test_lists_without_a_header_follow_clerk(fake_clerk: FakeClerk) -> None:
    """A list without session_token and no header token: Clerk's pre-check answers
    token-type-mismatch with tokenType null (design section 7); still a 401 without `error`."""
    state = await fake_clerk.clerk().authenticate_request(request(None), ["api_key", "m2m_token"])
    assert (state.token_type, state.reason, state.error) == (None, "token-type-mismatch", "missing")
