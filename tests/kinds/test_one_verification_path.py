"""A route and the Backend API client verify through the same kind: same tokens, same answers.

Each row is a machine JWT with an odd claim shape; the expected scopes, id and claims are fixed
here in advance (Clerk's fromJwtPayload rules, with our "lists are always lists of strings").
"""

from typing import Any

import pytest

from clerk_fastapi import Clerk, TokenVerificationError
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio

MACHINE = "mch_2oddshapes"

M2M_ROWS: list[tuple[str, dict[str, Any], list[str], dict[str, Any] | None]] = [
    ("aud string", {"aud": "only-one"}, ["only-one"], {"aud": "only-one"}),
    ("aud list", {"aud": ["mch_a", "mch_b"]}, ["mch_a", "mch_b"], {"aud": ["mch_a", "mch_b"]}),
    ("aud with a non-string", {"aud": ["mch_a", 7]}, ["mch_a"], {"aud": ["mch_a", 7]}),
    (
        "scopes wins over aud",
        {"scopes": "x  y", "aud": ["z"]},
        ["x", "y"],
        {"scopes": "x  y", "aud": ["z"]},
    ),
    (
        "scopes not a string",
        {"scopes": ["x"], "aud": ["z"]},
        ["z"],
        {"scopes": ["x"], "aud": ["z"]},
    ),
    ("no aud, no scopes", {}, [], None),
    ("custom claims", {"tenant": {"id": 1}}, [], {"tenant": {"id": 1}}),
    ("no jti", {"jti": None}, [], None),
]

OAUTH_ROWS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("scp with a non-string", {"scp": ["a", 1], "scope": "b c"}, ["a"]),
    ("scope string only", {"scope": "b  c"}, ["b", "c"]),
    ("scp empty list wins", {"scp": [], "scope": "b"}, []),
    ("scp not a list", {"scp": "a", "scope": "b"}, ["b"]),
    ("neither", {}, []),
]


def m2m_jwt(fake_clerk: FakeClerk, extra: dict[str, Any]) -> str:
    now = int(fake_clerk.clock())
    payload = {"sub": MACHINE, "iat": now, "exp": now + 600, "jti": "mt_0123456789abcdef"}
    payload.update(extra)
    payload = {k: v for k, v in payload.items() if v is not None}
    return fake_clerk.sign(payload, {"cat": "cl_B7d4PD333AAA"})


def oauth_jwt(fake_clerk: FakeClerk, extra: dict[str, Any]) -> str:
    now = int(fake_clerk.clock())
    payload = {"sub": "user_2odd", "client_id": "client_1", "iat": now, "exp": now + 600}
    payload.update({"jti": "oat_0123456789abcdef", **extra})
    return fake_clerk.sign(payload, {"typ": "at+jwt"})


async def both(clerk: Clerk, token: str, token_type: str) -> tuple[Any, Any]:
    state = await clerk.authenticate_token(token, token_type)
    assert state.status == "signed-in", state.reason
    client = clerk.m2m if token_type == "m2m_token" else clerk.oauth_tokens
    return state.to_auth(), await client.verify(token)


@pytest.mark.parametrize(
    ("name", "extra", "scopes", "claims"), M2M_ROWS, ids=[r[0] for r in M2M_ROWS]
)
async def test_m2m_jwt_route_and_client_agree(
    fake_clerk: FakeClerk, name: str, extra: dict[str, Any], scopes: list[str], claims: Any
) -> None:
    principal, resource = await both(fake_clerk.clerk(), m2m_jwt(fake_clerk, extra), "m2m_token")
    assert principal.scopes == resource.scopes == scopes
    assert principal.claims == resource.claims == claims
    assert principal.subject == principal.machine_id == resource.subject == MACHINE
    expected_id = "" if extra.get("jti", "x") is None else "mt_0123456789abcdef"
    assert principal.id == resource.id == expected_id
    assert principal.expiration == resource.expiration_datetime is not None


@pytest.mark.parametrize(("name", "extra", "scopes"), OAUTH_ROWS, ids=[r[0] for r in OAUTH_ROWS])
async def test_oauth_jwt_route_and_client_agree(
    fake_clerk: FakeClerk, name: str, extra: dict[str, Any], scopes: list[str]
) -> None:
    principal, resource = await both(
        fake_clerk.clerk(), oauth_jwt(fake_clerk, extra), "oauth_token"
    )
    assert principal.scopes == resource.scopes == scopes
    assert principal.client_id == resource.client_id == "client_1"
    assert principal.user_id == resource.subject == "user_2odd"
    assert principal.claims == resource.claims
    assert principal.expiration == resource.expiration_datetime is not None


async def test_opaque_tokens_agree(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk(machine_secret_key=fake_clerk.machine_secret_key)
    m2m = fake_clerk.m2m_token(scopes=["mch_x"], claims={"k": "v"})
    key = fake_clerk.api_key(subject="org_2acme", scopes=["read"], name="ci")
    oat = fake_clerk.oauth_token("opaque", scopes=["profile"])
    for token, token_type, client in (
        (m2m, "m2m_token", clerk.m2m),
        (key, "api_key", clerk.api_keys),
        (oat, "oauth_token", clerk.oauth_tokens),
    ):
        principal = (await clerk.authenticate_token(token, token_type)).to_auth()
        resource = await client.verify(token)
        assert (principal.id, principal.subject, principal.scopes, principal.claims) == (
            resource.id,
            resource.subject,
            resource.scopes,
            resource.claims,
        )
        assert principal.expiration == resource.expiration_datetime


async def test_both_refuse_a_session_jwt_as_a_machine_token(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk()
    session = fake_clerk.session_token()
    for token_type, client in (("m2m_token", clerk.m2m), ("oauth_token", clerk.oauth_tokens)):
        state = await clerk.authenticate_token(session, token_type)
        assert state.status == "signed-out" and state.reason == "token-type-mismatch"
        with pytest.raises(TokenVerificationError):
            await client.verify(session)
    assert fake_clerk.hits["m2m_verify"] == fake_clerk.hits["oauth_verify"] == 0
