"""How a JWT is recognised: from the kind records' data (``jwt_types``, ``jwt_subject_prefix``)
or a test of your own (``matches_jwt``), in ``jwt_rank`` order; anything nobody claims is a
session token. Seen from outside: which verifier a route's token reaches, and what it answers."""

from __future__ import annotations

import time
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel

from clerk_fastapi import Clerk, Credential, TokenKind, Verified
from clerk_fastapi.kinds import m2m, oauth
from clerk_fastapi.testing import FakeClerk
from tests.any_app import make_app

pytestmark = pytest.mark.anyio


class ServiceAuth(BaseModel):
    token_type: Literal["service_token"] = "service_token"
    subject: str


class ServiceVerifier:
    """Accepts every JWT it is handed (the test is about which tokens reach it)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def verify(self, credential: Credential) -> Verified:
        assert credential.jws is not None  # a recognised JWT comes parsed
        self.seen.append(credential.fingerprint)
        return Verified(
            ServiceAuth(subject=str(credential.jws.payload.get("sub"))),
            cache_until=time.time() + 60,
        )


def _service_kind(**recognise: Any) -> TokenKind:
    return TokenKind(name="service_token", principal=ServiceAuth, **recognise)


async def _get(clerk: Clerk, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app(clerk))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/any", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    "recognise",
    [
        {"jwt_types": ("svc+jwt",)},
        {"jwt_subject_prefix": "svc_"},
        {"matches_jwt": lambda jws: jws.header.get("typ") == "svc+jwt"},
    ],
    ids=["by typ", "by sub prefix", "by your own test"],
)
async def test_a_registered_jwt_type_gets_its_tokens_and_sessions_stay_sessions(
    fake_clerk: FakeClerk, recognise: dict[str, Any]
) -> None:
    clerk = fake_clerk.clerk()
    verifier = ServiceVerifier()
    clerk.registry.register(_service_kind(jwt_rank=5, **recognise), verifier)
    claims = {**fake_clerk.session_claims("svc_billing"), "sub": "svc_billing"}
    service = fake_clerk.sign(claims, {"typ": "svc+jwt"})

    answer = await _get(clerk, service)
    assert answer.status_code == 200
    assert answer.json()["type"] == "service_token" and answer.json()["sub"] == "svc_billing"
    assert len(verifier.seen) == 1

    session = await _get(clerk, fake_clerk.session_token(user_id="user_1"))
    assert session.status_code == 200 and session.json()["type"] == "session_token"
    assert len(verifier.seen) == 1  # a session JWT never reached the service verifier


async def test_clerk_order_m2m_before_oauth_from_the_records(fake_clerk: FakeClerk) -> None:
    """A JWT that is both (``typ: at+jwt`` and ``sub: mch_...``) is an M2M token, as in
    Clerk's ``getMachineTokenType``; the records, not code, say so."""
    assert m2m.KIND.jwt_rank < oauth.KIND.jwt_rank
    registry = fake_clerk.clerk().registry
    both = fake_clerk.sign(
        {"sub": f"{m2m.MACHINE_ID_PREFIX}x", "exp": time.time() + 60}, {"typ": oauth.JWT_TYPES[0]}
    )
    assert registry.classify(both).token_type == m2m.KIND.name
    only_typ = fake_clerk.sign({"sub": "user_1", "exp": time.time() + 60}, {"typ": "at+jwt"})
    assert registry.classify(only_typ).token_type == oauth.KIND.name


@pytest.mark.parametrize("typ", [["at+jwt"], {"a": 1}, 7, None])
async def test_an_odd_typ_or_sub_is_a_401_never_a_500(fake_clerk: FakeClerk, typ: Any) -> None:
    clerk = fake_clerk.clerk()
    clerk.registry.register(_service_kind(jwt_types=("svc+jwt",)), ServiceVerifier())
    claims = {**fake_clerk.session_claims("user_1"), "sub": ["svc_x"]}
    answer = await _get(clerk, fake_clerk.sign(claims, {"typ": typ}))
    assert answer.status_code == 401


def test_a_kind_needs_a_way_to_be_recognised() -> None:
    with pytest.raises(ValueError, match="needs prefixes"):
        FakeClerk().clerk().registry.register(_service_kind(), ServiceVerifier())


def test_a_credential_carries_its_cache_key() -> None:
    """The digest is the token's cache key: a credential without one cannot be made (an empty
    key would be every token's)."""
    with pytest.raises(TypeError):
        Credential("t", "session_token")  # type: ignore[call-arg]
