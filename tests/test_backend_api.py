"""clerk.m2m / clerk.api_keys / clerk.oauth_tokens on the wire, against Clerk's fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from clerk_fixtures import FROZEN_NOW, load_fixture
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi import Clerk, ClerkAPIError, ClerkNetworkError, __version__
from clerk_fastapi.testing import FrozenClock

pytestmark = pytest.mark.anyio
SECRET = "sk_test_wire_secret_0123456789"
MACHINE = "ak_wire_machine_secret_0123456789"


@dataclass
class Wire:
    """A scripted Backend API: answers ``body``/``status``, records each request."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def handle(request: Request) -> Response:
            raw = await request.body()
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "headers": dict(request.headers),
                    "json": json.loads(raw) if raw else None,
                }
            )
            return JSONResponse(self.body, status_code=self.status, headers=self.headers)

        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])

    def clerk(self, **settings: Any) -> Clerk:
        values: dict[str, Any] = {"secret_key": SECRET, "api_url": "https://api.clerk.test"}
        values.update(settings)
        return Clerk(
            transport=httpx.ASGITransport(app=self.app()), clock=FrozenClock(FROZEN_NOW), **values
        )


def assert_common_headers(request: dict[str, Any], secret: str) -> None:
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {secret}"
    assert headers["clerk-api-version"] == "2026-05-12"
    assert headers["user-agent"] == f"clerk-fastapi/{__version__}"
    if request["json"] is not None:
        assert headers["content-type"] == "application/json"


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


async def test_m2m_create_wire() -> None:
    fixture = load_fixture("bapi-m2m-tokens.json")["create"]
    wire = Wire(body=fixture["response_200"])
    token = await wire.clerk(machine_secret_key=MACHINE).m2m.create(
        seconds_until_expiration=3600, min_remaining_ttl_seconds=240
    )
    request = wire.requests[0]
    assert (request["method"], request["path"]) == ("POST", "/m2m_tokens")
    assert request["json"] == fixture["request"]["body"]
    assert_common_headers(request, MACHINE)
    expected = fixture["response_200"]
    assert token.id == expected["id"] and token.subject == expected["subject"]
    assert token.scopes == expected["scopes"] and token.claims == expected["claims"]
    assert token.token == expected["token"]
    assert token.expiration == expected["expiration"]
    assert token.expiration_datetime == ms(expected["expiration"])
    assert token.created_at_datetime == ms(expected["created_at"])
    assert expected["token"] not in repr(token)  # the secret never shows in a repr


@pytest.mark.parametrize(
    ("settings", "per_call", "expected"),
    [
        ({"machine_secret_key": MACHINE}, "ak_per_call_secret", "ak_per_call_secret"),
        ({"machine_secret_key": MACHINE}, None, MACHINE),
        ({}, None, SECRET),
    ],
    ids=["per-call", "configured-machine-key", "instance-secret"],
)
async def test_m2m_secret_fallback_order(
    settings: dict[str, Any], per_call: str | None, expected: str
) -> None:
    fixture = load_fixture("bapi-m2m-tokens.json")
    wire = Wire(body=fixture["verify"]["response_200"])
    clerk = wire.clerk(**settings)
    await clerk.m2m.verify("mt_secret_1xxxxxxxxxxxxx", machine_secret_key=per_call)
    await clerk.m2m.list(subject="mch_1", machine_secret_key=per_call)
    for request in wire.requests:
        assert request["headers"]["authorization"] == f"Bearer {expected}"


async def test_m2m_verify_revoke_list_wire() -> None:
    fixture = load_fixture("bapi-m2m-tokens.json")
    wire = Wire(body=fixture["verify"]["response_200"])
    clerk = wire.clerk(machine_secret_key=MACHINE)
    verified = await clerk.m2m.verify("mt_secret_1xxxxxxxxxxxxx")
    assert wire.requests[-1]["path"] == "/m2m_tokens/verify"
    assert wire.requests[-1]["json"] == fixture["verify"]["request"]["body"]
    assert verified.claims == {"foo": "bar"} and verified.revoked is False
    wire.body = fixture["revoke"]["response_200"]
    revoked = await clerk.m2m.revoke("mt_1xxxxxxxxxxxxx", revocation_reason="revoked by test")
    assert wire.requests[-1]["path"] == fixture["revoke"]["request"]["path"]
    assert wire.requests[-1]["json"] == fixture["revoke"]["request"]["body"]
    assert revoked.revoked is True and revoked.revocation_reason == "revoked by test"
    wire.body = fixture["list"]["response_200"]
    page = await clerk.m2m.list(
        subject="mch_1xxxxxxxxxxxxx", limit=10, revoked=True, expired=True, offset=0
    )
    assert wire.requests[-1]["method"] == "GET" and wire.requests[-1]["path"] == "/m2m_tokens"
    assert wire.requests[-1]["query"] == {
        "subject": "mch_1xxxxxxxxxxxxx",
        "limit": "10",
        "revoked": "true",
        "expired": "true",
        "offset": "0",
    }
    assert page.total_count == 2 and [t.id for t in page.data] == [
        "mt_1xxxxxxxxxxxxx",
        "mt_2xxxxxxxxxxxxx",
    ]


async def test_m2m_jwt_is_verified_locally() -> None:
    fixtures = load_fixture("generated-signed-tokens.json")["tokens"]
    expected = load_fixture("m2m-jwts.json")["expected_M2MToken_from_mockM2MJwtPayload"]
    wire = Wire(body=load_fixture("jwks.json"))
    clerk = wire.clerk()
    token = await clerk.m2m.verify(fixtures["m2m_jwt_with_cat"]["token"])
    assert [r["path"] for r in wire.requests] == ["/v1/jwks"]  # keys only, no verify call
    assert token.id == expected["id"] and token.subject == expected["subject"]
    assert token.scopes == expected["scopes"] and token.claims == expected["claims"]
    assert token.expiration == expected["expiration"]
    assert token.created_at == expected["createdAt"]


async def test_api_keys_wire() -> None:
    fixture = load_fixture("bapi-api-keys.json")
    wire = Wire(body=fixture["create_response_200"])
    clerk = wire.clerk()
    created = await clerk.api_keys.create(**fixture["create_request_body"])
    assert wire.requests[-1]["path"] == "/api_keys"
    assert wire.requests[-1]["json"] == fixture["create_request_body"]
    assert_common_headers(wire.requests[-1], SECRET)
    assert created.secret == "ak_secret_xxxxx" and "ak_secret_xxxxx" not in repr(created)
    assert created.name == "Test API Key" and created.created_by == "user_xxxxx"
    wire.body = fixture["verify"]["response_200"]
    verified = await clerk.api_keys.verify("ak_secret_xxxxx")
    assert wire.requests[-1]["json"] == fixture["verify"]["request"]["body"]
    assert verified.type == "secret_key" and verified.description == "Test description"
    wire.body = fixture["list_response_200"]
    page = await clerk.api_keys.list(subject="user_xxxxx")
    assert wire.requests[-1]["query"] == {"subject": "user_xxxxx"}
    assert page.total_count == 1 and page.data[0].id == "ak_xxxxx"
    wire.body = {**fixture["verify"]["response_200"], "revoked": True}
    revoked = await clerk.api_keys.revoke("ak_xxxxx", revocation_reason="leaked")
    assert wire.requests[-1]["path"] == "/api_keys/ak_xxxxx/revoke"
    assert wire.requests[-1]["json"] == {"revocation_reason": "leaked"}
    assert revoked.revoked is True


async def test_oauth_tokens_wire_and_jwt() -> None:
    fixture = load_fixture("bapi-oauth-access-tokens.json")
    wire = Wire(body=fixture["verify_response_200"])
    clerk = wire.clerk()
    token = await clerk.oauth_tokens.verify("oat_0ef5a7a33d87ed87ee7954c845d80450")
    assert wire.requests[-1]["path"] == fixture["verify_request"]["path"]
    assert wire.requests[-1]["json"] == fixture["verify_request"]["body"]
    assert token.client_id == "client_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
    assert token.scopes == ["read", "write"]
    wire.body = fixture["verify_response_200_inactive_jwt"]
    with pytest.raises(Exception, match="OAuth token not found"):
        await clerk.oauth_tokens.verify("oat_0ef5a7a33d87ed87ee7954c845d80450")
    oauth = load_fixture("oauth-jwts.json")
    wire.body = load_fixture("jwks.json")
    resource = await clerk.oauth_tokens.verify(oauth["at_jwt"]["token"])
    expected = oauth["expected_IdPOAuthAccessToken_from_jwt"]
    assert resource.id == expected["id"] and resource.client_id == expected["clientId"]
    assert resource.scopes == expected["scopes"] and resource.expiration == expected["expiration"]


async def test_error_envelope() -> None:
    fixture = load_fixture("bapi-m2m-tokens.json")["error_401_instance_secret_used_for_create"]
    body = {**fixture, "clerk_trace_id": "trace_123"}
    wire = Wire(body=body, status=401, headers={"Retry-After": "3"})
    clerk = wire.clerk()
    with pytest.raises(ClerkAPIError) as caught:
        await clerk.m2m.create()
    error = caught.value
    assert error.status == 401
    assert error.code == "machine_secret_key_invalid"
    assert error.errors == fixture["errors"]
    assert error.clerk_trace_id == "trace_123" and error.retry_after == 3
    assert SECRET not in repr(error) and SECRET not in str(error)
    envelope = load_fixture("bapi-errors.json")["envelope_400"]
    wire.body, wire.status, wire.headers = envelope, 400, {}
    with pytest.raises(ClerkAPIError) as bad:
        await clerk.api_keys.list()
    assert bad.value.errors[0]["long_message"] == envelope["errors"][0]["long_message"]


async def test_network_errors_are_their_own_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    clerk = Clerk(secret_key=SECRET, transport=httpx.MockTransport(refuse))
    with pytest.raises(ClerkNetworkError):
        await clerk.api_keys.verify("ak_" + "x" * 20)
