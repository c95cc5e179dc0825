"""Clerk's official Python SDK (``clerk-backend-api``) as a client of the fake, on every
Backend API endpoint the fake serves, configured as its docs say (``server_url=<fake>/v1``);
and every answer checked against Clerk's OpenAPI spec (spec_check.py).

The SDK runs in-process (its ``async_client`` over the fake's ASGI app), except its
``verify_token`` helper, which builds its own ``httpx.Client``: that one talks to the fake
served on a loopback port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from clerk_backend_api import Clerk as ClerkSDK
from clerk_backend_api import models
from clerk_backend_api.security import verify_token
from clerk_backend_api.security.types import VerifyTokenOptions
from spec_check import OPERATIONS, SpecChecked

from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio

USER = "user_" + "u" * 27
ORG = "org_" + "o" * 27


@dataclass
class Wire:
    fake: FakeClerk
    checked: SpecChecked
    sdk: ClerkSDK  # the instance secret key
    machine_sdk: ClerkSDK  # the default machine's secret key


def _sdk(app: SpecChecked, key: str) -> ClerkSDK:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return ClerkSDK(bearer_auth=key, server_url="http://fake.test/v1", async_client=client)


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    fake = FakeClerk(clock=FrozenClock())
    checked = SpecChecked(fake.app)
    yield Wire(
        fake, checked, _sdk(checked, fake.secret_key), _sdk(checked, fake.machine_secret_key)
    )
    assert checked.problems == []


async def test_m2m_tokens_through_the_python_sdk(wire: Wire) -> None:
    sdk, machine = wire.machine_sdk, wire.fake.default_machine_id
    # A number as the SDK sends it (600.0): the fake used to answer 422; create answers 201.
    created = await sdk.m2m.create_token_async(seconds_until_expiration=600, claims={"job": "a"})
    assert created.token.startswith("mt_") and created.subject == machine
    assert created.expiration == created.created_at + 600_000
    reused = await sdk.m2m.create_token_async(
        seconds_until_expiration=600, claims={"job": "a"}, min_remaining_ttl_seconds=60
    )
    assert reused.id == created.id
    jwt = await sdk.m2m.create_token_async(token_format="jwt")
    assert jwt.token.count(".") == 2
    second = await sdk.m2m.create_token_async()

    verified = await sdk.m2m.verify_token_async(token=created.token)
    assert (verified.id, verified.claims) == (created.id, {"job": "a"})

    # Newest first although both were made in the same millisecond (a frozen clock).
    listed = await sdk.m2m.list_tokens_async(subject=machine)
    assert [t.id for t in listed.m2m_tokens] == [second.id, created.id]
    # limit/offset as the SDK sends them (limit=1.0&offset=1.0) are honoured.
    one = await sdk.m2m.list_tokens_async(subject=machine, limit=1, offset=1)
    assert [t.id for t in one.m2m_tokens] == [created.id] and one.total_count == 2

    revoked = await sdk.m2m.revoke_token_async(m2m_token_id=created.id, revocation_reason="done")
    assert revoked.revoked and revoked.revocation_reason == "done"
    with pytest.raises(models.ClerkBaseError) as gone:
        await sdk.m2m.verify_token_async(token=created.token)
    assert gone.value.status_code == 404
    everything = await wire.sdk.m2m.list_tokens_async(subject=machine, revoked=True)
    assert everything.total_count == 2


async def test_api_keys_through_the_python_sdk(wire: Wire) -> None:
    sdk = wire.sdk
    first = await sdk.api_keys.create_api_key_async(
        name="ci-key", subject=ORG, scopes=["read"], claims={"env": "ci"}, description="CI"
    )
    assert first.secret.startswith("ak_") and first.subject == ORG
    second = await sdk.api_keys.create_api_key_async(
        name="deploy", subject=ORG, seconds_until_expiration=3600, created_by=USER
    )
    assert second.expiration == second.created_at + 3_600_000 and second.created_by == USER

    listed = await sdk.api_keys.get_api_keys_async(subject=ORG)
    assert [k.id for k in listed.data] == [second.id, first.id] and listed.total_count == 2
    paged = await sdk.api_keys.get_api_keys_async(subject=ORG, limit=1, offset=1)
    assert [k.id for k in paged.data] == [first.id]
    named = await sdk.api_keys.get_api_keys_async(subject=ORG, query="deplo")
    assert [k.id for k in named.data] == [second.id]

    got = await sdk.api_keys.get_api_key_async(api_key_id=first.id)
    assert (got.name, got.scopes, got.description) == ("ci-key", ["read"], "CI")
    updated = await sdk.api_keys.update_api_key_async(
        api_key_id=first.id, scopes=["read", "write"], description="CI runners"
    )
    assert updated.scopes == ["read", "write"] and updated.description == "CI runners"
    assert updated.claims == {"env": "ci"}  # left out: kept
    secret = await sdk.api_keys.get_api_key_secret_async(api_key_id=first.id)
    assert secret.secret == first.secret

    verified = await sdk.api_keys.verify_api_key_async(secret=first.secret)
    assert verified.id == first.id and verified.scopes == ["read", "write"]
    revoked = await sdk.api_keys.revoke_api_key_async(api_key_id=first.id, revocation_reason="x")
    assert revoked.revoked
    deleted = await sdk.api_keys.delete_api_key_async(api_key_id=second.id)
    assert (deleted.id, deleted.DELETED) == (second.id, True)
    with pytest.raises(models.ClerkBaseError) as missing:
        await sdk.api_keys.get_api_key_async(api_key_id=second.id)
    assert missing.value.status_code == 404
    left = await sdk.api_keys.get_api_keys_async(subject=ORG, include_invalid="true")
    assert [k.id for k in left.data] == [first.id]


async def test_oauth_verify_and_jwks_through_the_python_sdk(wire: Wire) -> None:
    token = wire.fake.oauth_token("opaque", scopes=["email"])
    verified = await wire.sdk.oauth_access_tokens.verify_async(access_token=token)
    assert verified.scopes == ["email"]
    # The deprecated body field the spec still lists.
    legacy = await wire.sdk.oauth_access_tokens.verify_async(secret=token)
    assert legacy.id == verified.id
    jwks = await wire.sdk.jwks.get_jwks_async()
    assert [key.kid for key in jwks.keys] == [wire.fake.signing_key.kid]


async def test_machines_through_the_python_sdk(wire: Wire) -> None:
    sdk = wire.sdk
    ledger = await sdk.machines.create_async(request={"name": "ledger"})
    billing = await sdk.machines.create_async(
        request={"name": "billing", "scoped_machines": [ledger.id], "default_token_ttl": 120}
    )
    assert billing.secret_key and [m.id for m in billing.scoped_machines] == [ledger.id]
    listed = await sdk.machines.list_async(limit=2, order_by="-created_at")
    assert [m.id for m in listed.data] == [billing.id, ledger.id] and listed.total_count == 3
    assert (await sdk.machines.get_async(machine_id=ledger.id)).name == "ledger"
    renamed = await sdk.machines.update_async(machine_id=ledger.id, name="ledger-2")
    assert renamed.name == "ledger-2"
    key = await sdk.machines.get_secret_key_async(machine_id=billing.id)
    rotated = await sdk.machines.rotate_secret_key_async(
        machine_id=billing.id, previous_token_ttl=0
    )
    assert rotated.secret != key.secret
    scope = await sdk.machines.create_scope_async(machine_id=ledger.id, to_machine_id=billing.id)
    assert (scope.from_machine_id, scope.to_machine_id) == (ledger.id, billing.id)
    dropped = await sdk.machines.delete_scope_async(
        machine_id=ledger.id, other_machine_id=billing.id
    )
    assert dropped.DELETED and dropped.to_machine_id == billing.id
    deleted = await sdk.machines.delete_async(machine_id=ledger.id)
    assert deleted.DELETED and deleted.id == ledger.id


async def test_spec_errors_through_the_python_sdk(wire: Wire) -> None:
    """400 where the spec says 400, with Clerk's error body; ids of Clerk's shape."""
    failures = [
        wire.sdk.api_keys.create_api_key_async(name="", subject=USER),  # too short
        wire.sdk.api_keys.create_api_key_async(name="key", subject="user_2test"),  # not an id
        wire.sdk.api_keys.get_api_keys_async(subject="user_1"),
        wire.machine_sdk.m2m.list_tokens_async(subject="mch_1"),
        wire.machine_sdk.m2m.create_token_async(seconds_until_expiration=0),
    ]
    for call in failures:
        with pytest.raises(models.ClerkBaseError) as refused:
            await call
        assert refused.value.status_code == 400
    assert wire.fake.api_key().startswith("ak_")
    assert wire.fake.resource(wire.fake.api_key())["subject"] == "user_2test" + "0" * 22


async def test_every_spec_operation_is_served() -> None:
    """The operations of the vendored spec subset are exactly the ones the fake serves."""
    fake = FakeClerk()
    served = {
        (method.lower(), route.path)
        for route in fake.app.routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD" and not route.path.startswith(("/v1", "/_fake", "/.well-known"))
    }
    spec = {
        (m, p.replace("{apiKeyID}", "{token_id}").replace("{m2m_token_id}", "{token_id}"))
        for m, p in OPERATIONS
    }
    assert {op for op in served if op[1].startswith(("/api_keys", "/m2m_tokens", "/jwks"))} == {
        op for op in spec if op[1].startswith(("/api_keys", "/m2m_tokens", "/jwks"))
    }


def test_verify_token_helper_against_the_served_fake() -> None:
    """The SDK's ``verify_token`` posts ``{"secret": ...}`` to each verify endpoint without
    ``/v1`` through its own ``httpx.Client``; the fake answers it."""
    fake = FakeClerk()
    m2m = fake.m2m_token("opaque")
    oauth = fake.oauth_token("opaque", scopes=["email"])
    key = fake.api_key(scopes=["read"])
    with fake.serve() as url:
        options = VerifyTokenOptions(secret_key=fake.secret_key, api_url=url)
        assert verify_token(m2m, options)["subject"] == fake.default_machine_id
        assert verify_token(oauth, options)["scopes"] == ["email"]
        assert verify_token(key, options)["scopes"] == ["read"]
        session = fake.session_token()
        assert verify_token(session, options)["sub"] == fake.resource(key)["subject"]
