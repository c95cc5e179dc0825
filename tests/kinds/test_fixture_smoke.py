"""Clerk's own fixture tokens through the public API, at Clerk's frozen time."""

from __future__ import annotations

from typing import Any

import pytest
from clerk_fixtures import FROZEN_NOW, load_fixture

from clerk_fastapi import Clerk, M2MAuth, OAuthAuth, SessionAuth
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
AZP = "https://accounts.inspired.puma-74.lcl.dev"


def clerk_for_fixtures(**overrides: Any) -> tuple[Clerk, FakeClerk]:
    fake = FakeClerk(clock=FrozenClock(FROZEN_NOW))
    fake.jwks_override = load_fixture("jwks.json")
    return fake.clerk(**overrides), fake


async def test_session_fixtures() -> None:
    clerk, fake = clerk_for_fixtures(authorized_parties=[AZP])
    tokens = load_fixture("session-jwts.json")["tokens"]
    state = await clerk.authenticate_token(tokens["mockJwt"]["token"])
    assert state.status == "signed-in"
    auth = state.to_auth()
    assert isinstance(auth, SessionAuth)
    assert auth.user_id == "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
    assert auth.session_id == "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9"
    expired = await clerk.authenticate_token(tokens["mockExpiredJwt"]["token"])
    assert (expired.status, expired.reason) == (
        "signed-out",
        "session-token-expired-refresh-non-eligible-no-refresh-cookie",
    )
    for name in ("mockInvalidSignatureJwt", "mockMalformedJwt"):
        state = await clerk.authenticate_token(tokens[name]["token"])
        assert state.reason == "token-invalid-signature", name
    assert fake.hits["jwks"] == 1


async def test_generated_tokens() -> None:
    clerk, _ = clerk_for_fixtures()
    tokens = load_fixture("generated-signed-tokens.json")["tokens"]
    m2m = await clerk.authenticate_token(tokens["m2m_jwt_with_cat"]["token"], "m2m_token")
    assert isinstance(m2m.auth, M2MAuth)
    assert m2m.auth.machine_id == "mch_2vYVtestTESTtestTESTtestTESTtest"
    assert m2m.auth.scopes == ["mch_1xxxxx", "mch_2xxxxx"]
    assert m2m.auth.claims == {
        "aud": ["mch_1xxxxx", "mch_2xxxxx"],
        "scopes": "mch_1xxxxx mch_2xxxxx",
    }
    no_cat = await clerk.authenticate_token(tokens["m2m_jwt_without_cat"]["token"], "any")
    assert no_cat.token_type == "m2m_token" and no_cat.status == "signed-in"
    wrong_cat = await clerk.authenticate_token(
        tokens["m2m_jwt_wrong_cat_session"]["token"], "m2m_token"
    )
    assert wrong_cat.reason == "token-invalid"
    on_session = await clerk.authenticate_token(tokens["m2m_jwt_with_cat"]["token"])
    assert on_session.reason == "token-type-mismatch"
    for name in ("session_jwt_with_m2m_cat", "jwt_template_cat"):
        for accepts in ("session_token", "any", ["session_token", "api_key"]):
            state = await clerk.authenticate_token(tokens[name]["token"], accepts)
            assert state.reason == "token-type-mismatch", (name, accepts)
    v2 = (await clerk.authenticate_token(tokens["session_jwt_v2_org"]["token"])).to_auth()
    assert isinstance(v2, SessionAuth)
    assert v2.org_role == "org:member"
    assert v2.org_permissions == [
        "org:reservations:manage",
        "org:support-chat:read",
        "org:support-chat:manage",
    ]
    assert v2.factor_verification_age == (5, -1)
    pending = await clerk.authenticate_token(tokens["session_jwt_pending"]["token"])
    assert pending.status == "signed-in" and pending.to_auth() is None
    held = pending.to_auth(treat_pending_as_signed_out=False)
    assert isinstance(held, SessionAuth) and held.session_status == "pending"


async def test_oauth_jwt_fixtures() -> None:
    clerk, _ = clerk_for_fixtures()
    data = load_fixture("oauth-jwts.json")
    expected = data["expected_auth_object"]
    for name in ("at_jwt", "application_at_jwt"):
        state = await clerk.authenticate_token(data[name]["token"], "oauth_token")
        auth = state.to_auth()
        assert isinstance(auth, OAuthAuth), state
        assert auth.id == expected["id"]
        assert auth.user_id == expected["userId"]
        assert auth.client_id == expected["clientId"]
        assert auth.scopes == expected["scopes"]


@pytest.mark.parametrize(
    ("case", "permissions"),
    [
        ("case_orgs", ["org:reservations:read", "org:reservations:manage"]),
        (
            "case_billing",
            ["org:reservations:manage", "org:support-chat:read", "org:support-chat:manage"],
        ),
    ],
)
def test_v2_claims_and_has(case: str, permissions: list[str]) -> None:
    from clerk_fastapi.kinds.session import session_auth_from_claims

    data = load_fixture("session-v2-claims.json")[case]
    auth = session_auth_from_claims(data["payload"])
    assert auth.org_permissions == permissions
    for query, answer in data["has"].items():
        kind, _, value = query.partition("=")
        assert auth.has(**{kind: value}) is answer, query


def test_a_session_principal_maps_every_claim_and_has_every_field_set() -> None:
    """Every claim Clerk puts in a session token lands in its field (v1 and v2), absent ones
    keep their defaults, and every field counts as set, as in a principal decoded from Redis:
    ``model_dump(exclude_unset=True)`` keeps ``token_type``, so it validates as the union."""
    from pydantic import TypeAdapter

    from clerk_fastapi.kinds import AuthObject
    from clerk_fastapi.kinds.session import session_auth_from_claims

    common = {
        "sub": "user_1",
        "sid": "sess_1",
        "sts": "active",
        "act": {"sub": "user_admin"},
        "fva": [3, -1],
        "fea": "o:notes, u:export",
        "pla": "u:pro",
    }
    v1 = {
        **common,
        "org_id": "org_1",
        "org_role": "org:admin",
        "org_slug": "acme",
        "org_permissions": ["org:notes:read", 7],
    }
    v2 = {
        **common,
        "v": 2,
        "o": {"id": "org_1", "rol": "admin", "slg": "acme", "per": "read", "fpm": "1"},
    }
    for claims in (v1, v2):
        auth = session_auth_from_claims(claims)
        assert auth.model_dump(exclude={"claims"}) == {
            "token_type": "session_token",
            "user_id": "user_1",
            "session_id": "sess_1",
            "session_status": "active",
            "org_id": "org_1",
            "org_role": "org:admin",
            "org_slug": "acme",
            "org_permissions": ["org:notes:read"],
            "actor": {"sub": "user_admin"},
            "factor_verification_age": (3, -1),
            "features": ["o:notes", "u:export"],
            "plans": ["u:pro"],
        }
        assert auth.claims is claims
        assert auth.model_fields_set == set(SessionAuth.model_fields)
        unset_dropped = auth.model_dump(exclude_unset=True)
        assert TypeAdapter(AuthObject).validate_python(unset_dropped) == auth

    bare = session_auth_from_claims({"sub": "user_2"})
    assert bare.model_dump(exclude={"claims", "user_id", "token_type"}) == {
        "session_id": None,
        "session_status": None,
        "org_id": None,
        "org_role": None,
        "org_slug": None,
        "org_permissions": [],
        "actor": None,
        "factor_verification_age": None,
        "features": [],
        "plans": [],
    }
    assert bare.model_fields_set == set(SessionAuth.model_fields)
    # The defaults are not shared between principals.
    bare.features.append("u:leak")
    assert session_auth_from_claims({"sub": "user_3"}).features == []
