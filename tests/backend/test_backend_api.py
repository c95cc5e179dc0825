"""clerk.m2m / clerk.api_keys / clerk.oauth_tokens on the wire.

Two Clerk stand-ins: ``FakeClerk`` (the testing kit; its ``requests`` record what was sent) for
behaviour, and ``Wire``, a scripted Backend API that answers Clerk's own fixture bodies verbatim,
for the field-by-field mapping of answers the fake does not produce (create, list, error bodies).
"""

from __future__ import annotations

import contextlib
import json
import logging
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

from clerk_fastapi import (
    Clerk,
    ClerkAPIError,
    ClerkNetworkError,
    ConfigurationError,
    TokenVerificationError,
    __version__,
)
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
SECRET = "sk_test_wire_secret_0123456789"
MACHINE = "ak_wire_machine_secret_0123456789"
M2M = load_fixture("bapi-m2m-tokens.json")
API_KEYS = load_fixture("bapi-api-keys.json")
OAUTH = load_fixture("bapi-oauth-access-tokens.json")

# Clerk-shaped ids (the spec's ``^(user|org)_\\w{27}$``): the fake refuses others with a 400.
ORG_1 = "org_" + "1" * 27
ORG_2 = "org_" + "2" * 27
USER_1 = "user_" + "1" * 27


@dataclass
class Wire:
    """A scripted Backend API: answers ``body``/``status``/``headers``, records each request."""

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


def assert_headers(headers: dict[str, str], secret: str, *, has_body: bool) -> None:
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["authorization"] == f"Bearer {secret}"
    assert lower["clerk-api-version"] == "2026-05-12"
    assert lower["user-agent"] == f"clerk-fastapi/{__version__}"
    assert (lower.get("content-type") == "application/json") is has_body


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def assert_maps(
    resource: Any, wire_json: dict[str, Any], fields: list[str], *, seconds: bool = False
) -> None:
    """Every listed wire field arrives unchanged; every timestamp also as an aware datetime
    (milliseconds on the wire; ``seconds`` for the OAuth answers, whose spec examples are)."""
    for name in fields:
        assert getattr(resource, name) == wire_json[name], name
    for name in ("expiration", "created_at", "updated_at", "last_used_at"):
        value = wire_json.get(name)
        expected = None if value is None else ms(value * 1000 if seconds else value)
        assert getattr(resource, f"{name}_datetime") == expected


M2M_FIELDS = [
    "object", "id", "subject", "scopes", "claims", "revoked", "revocation_reason", "expired",
    "expiration", "created_at", "updated_at",
]  # fmt: skip
API_KEY_FIELDS = [
    *M2M_FIELDS, "type", "name", "created_by", "description", "last_used_at",
]  # fmt: skip


# -- requests and answers, against Clerk's fixtures ------------------------------------------------


async def test_m2m_create_maps_clerks_answer() -> None:
    wire = Wire(body=M2M["create"]["response_200"])
    token = await wire.clerk(machine_secret_key=MACHINE).m2m.create(
        seconds_until_expiration=3600, min_remaining_ttl_seconds=240
    )
    request = wire.requests[0]
    assert (request["method"], request["path"]) == ("POST", "/m2m_tokens")
    assert request["json"] == M2M["create"]["request"]["body"]
    assert_headers(request["headers"], MACHINE, has_body=True)
    assert_maps(token, M2M["create"]["response_200"], M2M_FIELDS)
    assert token.token == "mt_secret_1xxxxxxxxxxxxx"
    assert "mt_secret_1xxxxxxxxxxxxx" not in repr(token)  # the credential never shows in a repr


async def test_m2m_revoke_and_list_map_clerks_answers() -> None:
    wire = Wire(body=M2M["revoke"]["response_200"])
    clerk = wire.clerk(machine_secret_key=MACHINE)
    revoked = await clerk.m2m.revoke("mt_1xxxxxxxxxxxxx", revocation_reason="revoked by test")
    assert wire.requests[-1]["path"] == M2M["revoke"]["request"]["path"]
    assert wire.requests[-1]["json"] == M2M["revoke"]["request"]["body"]
    assert_headers(wire.requests[-1]["headers"], MACHINE, has_body=True)
    assert_maps(revoked, M2M["revoke"]["response_200"], M2M_FIELDS)
    assert revoked.revoked is True and revoked.revocation_reason == "revoked by test"

    wire.body = M2M["list"]["response_200"]
    page = await clerk.m2m.list(
        subject="mch_1xxxxxxxxxxxxx", limit=10, revoked=True, expired=True, offset=0
    )
    sent = wire.requests[-1]
    assert sent["method"] == "GET" and sent["json"] is None
    expected_path, expected_query = M2M["list"]["request"]["path"].split("?")
    assert sent["path"] == expected_path
    assert sent["query"] == dict(pair.split("=") for pair in expected_query.split("&"))
    assert_headers(sent["headers"], MACHINE, has_body=False)
    listed = M2M["list"]["response_200"]
    assert page.total_count == listed["total_count"]
    for resource, wire_json in zip(page.data, listed["m2m_tokens"], strict=True):
        assert_maps(resource, wire_json, M2M_FIELDS)


async def test_api_keys_create_list_revoke_map_clerks_answers() -> None:
    wire = Wire(body=API_KEYS["create_response_200"])
    clerk = wire.clerk()
    created = await clerk.api_keys.create(**API_KEYS["create_request_body"])
    assert (wire.requests[-1]["method"], wire.requests[-1]["path"]) == ("POST", "/api_keys")
    assert wire.requests[-1]["json"] == API_KEYS["create_request_body"]
    assert_headers(wire.requests[-1]["headers"], SECRET, has_body=True)
    assert_maps(created, API_KEYS["create_response_200"], API_KEY_FIELDS)
    assert created.secret == API_KEYS["create_response_200"]["secret"]
    assert created.secret not in repr(created)

    wire.body = API_KEYS["list_response_200"]
    page = await clerk.api_keys.list(subject="user_xxxxx", include_invalid=True, limit=5)
    assert wire.requests[-1]["query"] == {
        "subject": "user_xxxxx",
        "include_invalid": "true",
        "limit": "5",
    }
    assert page.total_count == 1
    assert_maps(page.data[0], API_KEYS["list_response_200"]["data"][0], API_KEY_FIELDS)

    wire.body = {**API_KEYS["verify"]["response_200"], "revoked": True, "revocation_reason": "x"}
    revoked = await clerk.api_keys.revoke("ak_xxxxx", revocation_reason="x")
    assert wire.requests[-1]["path"] == "/api_keys/ak_xxxxx/revoke"
    assert wire.requests[-1]["json"] == {"revocation_reason": "x"}
    assert revoked.revoked is True and revoked.revocation_reason == "x"


async def test_oauth_verify_maps_clerks_answer_and_refuses_inactive() -> None:
    wire = Wire(body=OAUTH["verify_response_200"])
    clerk = wire.clerk()
    token = await clerk.oauth_tokens.verify("oat_0ef5a7a33d87ed87ee7954c845d80450")
    assert wire.requests[-1]["path"] == OAUTH["verify_request"]["path"]
    assert wire.requests[-1]["json"] == OAUTH["verify_request"]["body"]
    assert_headers(wire.requests[-1]["headers"], SECRET, has_body=True)
    fields = [*M2M_FIELDS[:4], *M2M_FIELDS[5:]]
    assert_maps(token, OAUTH["verify_response_200"], fields, seconds=True)
    assert token.expiration_datetime == datetime(2024, 5, 28, 8, 0, tzinfo=timezone.utc)
    assert token.client_id == OAUTH["verify_response_200"]["client_id"]
    wire.body = OAUTH["verify_response_200_inactive_jwt"]  # {"active": false}
    with pytest.raises(TokenVerificationError) as caught:
        await clerk.oauth_tokens.verify("oat_0ef5a7a33d87ed87ee7954c845d80450")
    assert caught.value.reason == "token-invalid"
    assert caught.value.message == "OAuth token not found"


async def test_verify_answers_from_the_fake_clerk() -> None:
    """The fake serves the fixtures' verify bodies; each request and field checked."""
    fake = FakeClerk(clock=FrozenClock(FROZEN_NOW))
    clerk = fake.clerk(machine_secret_key=fake.machine_secret_key)
    fake.register_opaque("mt_secret_1xxxxxxxxxxxxx", "m2m_token", M2M["verify"]["response_200"])
    fake.register_opaque("ak_secret_xxxxx", "api_key", API_KEYS["verify"]["response_200"])
    m2m = await clerk.m2m.verify("mt_secret_1xxxxxxxxxxxxx")
    key = await clerk.api_keys.verify("ak_secret_xxxxx")
    assert_maps(m2m, M2M["verify"]["response_200"], M2M_FIELDS)
    assert_maps(key, API_KEYS["verify"]["response_200"], API_KEY_FIELDS)
    sent_m2m, sent_key = fake.requests
    assert (sent_m2m.method, sent_m2m.path) == ("POST", "/m2m_tokens/verify")
    assert sent_m2m.json == M2M["verify"]["request"]["body"]
    assert_headers(sent_m2m.headers, fake.machine_secret_key, has_body=True)
    assert (sent_key.method, sent_key.path) == ("POST", "/api_keys/verify")
    assert sent_key.json == API_KEYS["verify"]["request"]["body"]
    assert_headers(sent_key.headers, fake.secret_key, has_body=True)


# -- which key authenticates M2M calls ---------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "per_call", "expected"),
    [
        ("machine", "per-call", "per-call"),
        ("machine", None, "machine"),
        (None, "per-call", "per-call"),
        (None, None, "instance"),
    ],
)
async def test_m2m_key_order(configured: str | None, per_call: str | None, expected: str) -> None:
    """Per-call machine secret key, else the configured one, else the instance secret key."""
    fake = FakeClerk()
    other_machine_key = "ak_" + "p" * 40  # a machine key the fake does not know
    keys = {"machine": fake.machine_secret_key, "per-call": other_machine_key}
    keys["instance"] = fake.secret_key
    clerk = fake.clerk(machine_secret_key=keys[configured] if configured else None)
    fake.register_opaque(
        "mt_" + "a" * 40, "m2m_token", {"id": "mt_" + "0" * 32, "subject": "mch_x"}
    )
    call_key = keys[per_call] if per_call else None
    for call in (
        clerk.m2m.verify("mt_" + "a" * 40, machine_secret_key=call_key),
        clerk.m2m.list(subject="mch_x", machine_secret_key=call_key),
        clerk.m2m.create(machine_secret_key=call_key),
        clerk.m2m.revoke("mt_" + "0" * 32, machine_secret_key=call_key),
    ):
        # The fake refuses an unknown key, and the instance key on create: sent all the same.
        with contextlib.suppress(ClerkAPIError):
            await call
    assert len(fake.requests) == 4
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {keys[expected]}"}


async def test_create_with_the_instance_key_is_clerks_401() -> None:
    fake = FakeClerk()
    with pytest.raises(ClerkAPIError) as caught:
        await fake.clerk().m2m.create()
    expected = M2M["error_401_instance_secret_used_for_create"]["errors"][0]
    assert caught.value.status == 401 and caught.value.code == expected["code"]
    assert caught.value.errors[0]["message"] == expected["message"]


# -- M2M and API-key lifecycles on the fake -------------------------------------------------------


async def test_m2m_lifecycle() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    clerk = fake.clerk(machine_secret_key=fake.machine_secret_key)
    machine = fake.default_machine_id
    short = await clerk.m2m.create(seconds_until_expiration=60, claims={"job": "a"})
    long = await clerk.m2m.create(seconds_until_expiration=3600)
    jwt = await clerk.m2m.create(token_format="jwt", claims={"job": "b"})
    assert short.token.startswith("mt_") and long.token.startswith("mt_")
    assert jwt.token.count(".") == 2  # a compact JWT
    assert short.subject == machine and short.claims == {"job": "a"}
    assert short.expiration == int(clock() * 1000) + 60_000  # milliseconds, not whole seconds

    verified = await clerk.m2m.verify(short.token)
    assert (verified.id, verified.claims, verified.token) == (short.id, {"job": "a"}, None)
    from_jwt = await clerk.m2m.verify(jwt.token)
    assert from_jwt.id == jwt.id and from_jwt.claims is not None
    assert from_jwt.claims["job"] == "b" and from_jwt.subject == machine

    # min_remaining_ttl_seconds: Clerk hands back a live opaque token instead of a new one.
    reused = await clerk.m2m.create(min_remaining_ttl_seconds=600)
    assert (reused.id, reused.token) == (long.id, long.token)

    page = await clerk.m2m.list(subject=machine)
    assert page.total_count == 2  # JWT tokens are not stored, so not listed
    assert {t.id for t in page.data} == {short.id, long.id}
    assert all(t.token is None for t in page.data)

    await clerk.m2m.revoke(long.id, revocation_reason="rotated")
    clock.advance(120)  # ``short`` has expired
    assert (await clerk.m2m.list(subject=machine)).total_count == 0
    everything = await clerk.m2m.list(subject=machine, revoked=True, expired=True)
    by_id = {t.id: t for t in everything.data}
    assert by_id[long.id].revoked and by_id[long.id].revocation_reason == "rotated"
    assert by_id[short.id].expired
    one = await clerk.m2m.list(subject=machine, revoked=True, expired=True, limit=1, offset=1)
    assert one.total_count == 2 and len(one.data) == 1

    for token in (long.token, short.token):  # revoked, expired: Clerk's 404
        with pytest.raises(TokenVerificationError) as caught:
            await clerk.m2m.verify(token)
        assert caught.value.message == "Machine token not found"
    with pytest.raises(ClerkAPIError) as not_stored:
        await clerk.m2m.revoke(jwt.id)  # JWT tokens cannot be revoked
    assert not_stored.value.status == 404


async def test_api_key_lifecycle() -> None:
    fake = FakeClerk()
    clerk = fake.clerk()
    created = await clerk.api_keys.create(
        name="ci-key", subject=ORG_1, scopes=["read"], description="for CI", claims={"env": "ci"}
    )
    assert created.secret and created.secret.startswith("ak_")
    verified = await clerk.api_keys.verify(created.secret)
    assert (verified.id, verified.name, verified.subject) == (created.id, "ci-key", ORG_1)
    assert verified.scopes == ["read"] and verified.claims == {"env": "ci"}
    assert verified.description == "for CI" and verified.secret is None
    assert (await clerk.api_keys.list(subject=ORG_1)).total_count == 1
    assert (await clerk.api_keys.list(subject=ORG_2)).total_count == 0

    revoked = await clerk.api_keys.revoke(created.id, revocation_reason="leaked")
    assert revoked.revoked and revoked.revocation_reason == "leaked"
    with pytest.raises(TokenVerificationError, match="API key not found"):
        await clerk.api_keys.verify(created.secret)
    assert (await clerk.api_keys.list(subject=ORG_1)).total_count == 0
    assert (await clerk.api_keys.list(subject=ORG_1, include_invalid=True)).total_count == 1
    with pytest.raises(ClerkAPIError) as wrong_kind:
        await clerk.m2m.revoke(created.id)  # an API key id on the M2M endpoint
    # Not an M2M token id (the spec's ``^mt_[0-9A-Fa-f]{32}$``): refused before any lookup.
    assert (wrong_kind.value.status, wrong_kind.value.code) == (400, "form_param_value_invalid")


# -- verify: local JWTs, refusals ----------------------------------------------------------------


async def test_jwts_are_verified_locally() -> None:
    """Clerk's own signed fixtures, checked against Clerk's expected resources."""
    fake = FakeClerk(clock=FrozenClock(FROZEN_NOW))
    fake.jwks_override = load_fixture("jwks.json")
    clerk = fake.clerk()
    m2m_jwt = load_fixture("generated-signed-tokens.json")["tokens"]["m2m_jwt_with_cat"]["token"]
    expected = load_fixture("m2m-jwts.json")["expected_M2MToken_from_mockM2MJwtPayload"]
    token = await clerk.m2m.verify(m2m_jwt)
    assert token.id == expected["id"] and token.subject == expected["subject"]
    assert token.scopes == expected["scopes"] and token.claims == expected["claims"]
    assert token.expiration == expected["expiration"]
    assert token.created_at == expected["createdAt"] == token.updated_at
    assert token.revoked is False and token.expired is False

    oauth = load_fixture("oauth-jwts.json")
    resource = await clerk.oauth_tokens.verify(oauth["at_jwt"]["token"])
    expected = oauth["expected_IdPOAuthAccessToken_from_jwt"]
    assert resource.id == expected["id"] and resource.client_id == expected["clientId"]
    assert resource.scopes == expected["scopes"] and resource.expiration == expected["expiration"]
    assert resource.type == "oauth_token" and resource.subject == expected["subject"]
    assert [r.endpoint for r in fake.requests] == ["jwks"]  # keys only, no verify call


async def test_verify_refusals() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    clerk = fake.clerk()
    session = fake.session_token()
    with pytest.raises(TokenVerificationError, match="Not an M2M token"):
        await clerk.m2m.verify(session)
    with pytest.raises(TokenVerificationError, match="Not an OAuth access token"):
        await clerk.oauth_tokens.verify(session)
    assert fake.hits["m2m_verify"] == fake.hits["oauth_verify"] == 0  # never sent to Clerk

    # A 200 that says "revoked" (Clerk answers 404; its SDK would trust the 200, we do not).
    revoked = "mt_" + "r" * 40
    fake.register_opaque(revoked, "m2m_token", {"id": "mt_1", "subject": "mch_1", "revoked": True})
    with pytest.raises(TokenVerificationError, match="Machine token not found"):
        await clerk.m2m.verify(revoked)

    forged = fake.m2m_token("jwt", expires_in=60)
    clock.advance(120)
    with pytest.raises(TokenVerificationError) as expired:
        await clerk.m2m.verify(forged)
    # Clerk wraps every machine-JWT failure as token-verification-failed.
    assert expired.value.reason == "token-verification-failed"
    assert "expired" in expired.value.message
    signed = fake.oauth_token("jwt").rsplit(".", 1)[0]
    other_signature = fake.oauth_token("jwt").rsplit(".", 1)[1]  # another token's signature
    with pytest.raises(TokenVerificationError) as bad:
        await clerk.oauth_tokens.verify(f"{signed}.{other_signature}")
    assert bad.value.reason == "token-verification-failed"
    assert "signature" in bad.value.message


# -- errors ----------------------------------------------------------------------------------


async def test_error_envelope() -> None:
    body = {**M2M["error_401_instance_secret_used_for_create"], "clerk_trace_id": "trace_123"}
    wire = Wire(body=body, status=401, headers={"Retry-After": "3", "cf-ray": "ray_1"})
    clerk = wire.clerk()
    with pytest.raises(ClerkAPIError) as caught:
        await clerk.m2m.create()
    error = caught.value
    assert error.status == 401 and error.code == "machine_secret_key_invalid"
    assert error.errors == body["errors"]
    assert error.clerk_trace_id == "trace_123" and error.retry_after == 3  # body wins over cf-ray

    envelope = load_fixture("bapi-errors.json")["envelope_400"]
    wire.body, wire.status = envelope, 400
    with pytest.raises(ClerkAPIError) as bad:
        await clerk.api_keys.list(subject="user_1")
    assert bad.value.errors == envelope["errors"]
    assert (
        bad.value.errors[0]["long_message"] == "Invalid 'url_parameter.example': Failed regex check"
    )
    assert bad.value.clerk_trace_id == "ray_1"  # no trace id in the body: the cf-ray header

    wire.body, wire.status = {"errors": [{"code": "x", "meta": {"param_name": "subject"}}]}, 422
    with pytest.raises(ClerkAPIError) as meta:
        await clerk.api_keys.create(name="n", subject="user_1")
    assert meta.value.errors[0]["meta"] == {"param_name": "subject"}


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"m2m_tokens": "nope", "total_count": 1},
        {"m2m_tokens": [{"id": "mt_1"}], "total_count": 1},  # no subject
        {"m2m_tokens": [], "total_count": "1"},
    ],
)
async def test_unusable_2xx_is_an_api_error(body: Any) -> None:
    wire = Wire(body=body)
    with pytest.raises(ClerkAPIError) as caught:
        await wire.clerk().m2m.list(subject="mch_1")
    assert caught.value.code == "invalid_response_body"


async def test_upstream_trouble() -> None:
    fake = FakeClerk()
    clerk = fake.clerk(http_timeout=0.2)
    fake.fail("api_key_verify", "down")
    with pytest.raises(ClerkNetworkError):
        await clerk.api_keys.verify("ak_" + "x" * 40)
    assert fake.hits["api_key_verify"] == 2  # one retry after a connection error
    fake.fail("api_key_list", "status", status=429, retry_after=7)
    with pytest.raises(ClerkAPIError) as limited:
        await clerk.api_keys.list(subject="user_1")
    assert (limited.value.status, limited.value.retry_after) == (429, 7)
    fake.fail("m2m_list", "malformed")
    with pytest.raises(ClerkAPIError) as malformed:
        await clerk.m2m.list(subject="mch_1")
    assert malformed.value.code == "invalid_json_body"
    fake.fail("m2m_verify", "slow", delay=2.0)
    with pytest.raises(ClerkNetworkError, match="in time"):
        await clerk.m2m.verify("mt_" + "x" * 40)
    fake.fail("m2m_revoke", "status", status=500)
    with pytest.raises(ClerkAPIError) as failed:
        await clerk.m2m.revoke("mt_1")
    assert failed.value.status == 500


async def test_bad_ids_and_missing_keys_fail_before_any_request() -> None:
    fake = FakeClerk()
    clerk = fake.clerk()
    for bad in ("", "../users", "mt_1/revoke", "mt_1?x=1", "mt 1", "%2e%2e"):
        with pytest.raises(ValueError):
            await clerk.m2m.revoke(bad)
        with pytest.raises(ValueError):
            await clerk.api_keys.revoke(bad)
    networkless = Clerk(jwt_key=fake.signing_key.public_pem(), transport=fake.transport())
    with pytest.raises(ConfigurationError):
        await networkless.api_keys.create(name="n", subject="user_1")
    with pytest.raises(ConfigurationError):
        await networkless.oauth_tokens.verify("oat_" + "x" * 32)
    assert fake.requests == []


async def test_secrets_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    """Keys, tokens and API-key secrets appear in no repr, no exception and no log line."""
    caplog.set_level(logging.DEBUG)
    fake = FakeClerk()
    clerk = fake.clerk(machine_secret_key=fake.machine_secret_key, http_timeout=0.2)
    created = await clerk.m2m.create()
    key = await clerk.api_keys.create(name="n-key", subject=USER_1)
    secrets = [fake.secret_key, fake.machine_secret_key, str(created.token), str(key.secret)]
    seen: list[str] = [repr(created), str(created), repr(key), str(key), repr(clerk)]
    await clerk.m2m.revoke(created.id)
    failures = [
        clerk.m2m.verify(str(created.token)),  # 404
        clerk.api_keys.verify(str(key.secret) + "x"),  # 404
        fake.clerk(secret_key="sk_test_" + "w" * 40).api_keys.verify(str(key.secret)),  # 401
    ]
    fake.fail("m2m_create", "down")
    failures.append(clerk.m2m.create())
    fake.fail("api_key_verify", "slow", delay=0.5)
    failures.append(clerk.api_keys.verify(str(key.secret)))
    for failure in failures:
        with pytest.raises(Exception) as caught:
            await failure
        seen += [repr(caught.value), str(caught.value), repr(caught.value.__dict__)]
    seen.append(caplog.text)
    for text in seen:
        for secret in secrets:
            assert secret not in text
