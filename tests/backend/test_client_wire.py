"""This package's Backend API client against answers shaped as Clerk's OpenAPI spec allows
(unknown fields, missing optionals, nulls, numbers as floats), and the parameters it sends:
only the ones the caller gave, as Clerk's SDK does."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi import Clerk
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio

MACHINE_ID = "mch_" + "m" * 27
ORG = "org_" + "o" * 27


def scripted(body: Any, seen: list[httpx.URL]) -> Clerk:
    async def handle(request: Request) -> Response:
        seen.append(httpx.URL(str(request.url)))
        return JSONResponse(body)

    methods = ["GET", "POST", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
    return Clerk(
        secret_key="sk_test_wire_secret_0123456789",
        machine_secret_key="ak_wire_machine_secret_0123456789",
        api_url="https://api.clerk.test",
        transport=httpx.ASGITransport(app=app),
    )


async def test_total_count_as_an_integral_float_is_a_count() -> None:
    """The spec types ``total_count`` as a number; 1.0 used to be refused as unusable."""
    machine = {"object": "machine", "id": MACHINE_ID, "name": "ledger"}
    clerk = scripted({"data": [machine], "total_count": 1.0}, [])
    page = await clerk.machines.list()
    assert page.total_count == 1 and isinstance(page.total_count, int)
    assert [m.id for m in page.data] == [MACHINE_ID]


async def test_spec_shaped_answers_with_unknown_fields_nulls_and_floats() -> None:
    token = {
        "object": "machine_to_machine_token",
        "id": "mt_" + "a" * 32,
        "subject": MACHINE_ID,
        "scopes": None,
        "claims": None,
        "revoked": None,
        "revocation_reason": None,
        "expired": False,
        "expiration": 1_716_883_200_000.0,
        "created_at": 1_716_883_100_000.0,
        # missing: updated_at, last_used_at; unknown: a field a later API version adds
        "future_field": {"nested": [1, 2]},
    }
    clerk = scripted({"m2m_tokens": [token], "total_count": 1.0}, [])
    page = await clerk.m2m.list(subject=MACHINE_ID)
    (parsed,) = page.data
    assert parsed.scopes == [] and parsed.revoked is False and parsed.updated_at is None
    assert parsed.expiration == 1_716_883_200_000 and isinstance(parsed.expiration, int)
    machine = {
        "object": "machine",
        "id": MACHINE_ID,
        "name": "ledger",
        "scoped_machines": None,
        "default_token_ttl": 3600.0,
        "new_field": True,
    }
    got = await scripted(machine, []).machines.get(MACHINE_ID)
    assert got.scoped_machines == [] and got.default_token_ttl == 3600


async def test_lists_send_only_the_parameters_the_caller_gave() -> None:
    seen: list[httpx.URL] = []
    clerk = scripted({"data": [], "m2m_tokens": [], "total_count": 0}, seen)
    await clerk.machines.list()
    await clerk.m2m.list(subject=MACHINE_ID)
    await clerk.api_keys.list(subject=ORG)
    await clerk.machines.list(limit=5, offset=0)
    assert [dict(url.params) for url in seen] == [
        {},
        {"subject": MACHINE_ID},
        {"subject": ORG},
        {"limit": "5", "offset": "0"},  # given, so sent (0 included)
    ]


async def test_the_whole_api_key_api_on_the_fake() -> None:
    """``get``/``update``/``delete``/``get_secret`` had no route on the fake (plain 404)."""
    fake = FakeClerk()
    clerk = fake.clerk()
    created = await clerk.api_keys.create(name="ci-key", subject=ORG, scopes=["read"])
    got = await clerk.api_keys.get(created.id)
    assert (got.id, got.name, got.secret) == (created.id, "ci-key", None)
    updated = await clerk.api_keys.update(created.id, subject=ORG, scopes=["read", "write"])
    assert updated.scopes == ["read", "write"]
    assert (await clerk.api_keys.get_secret(created.id)).secret == created.secret
    deleted = await clerk.api_keys.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    assert fake.hits["api_key_get"] == fake.hits["api_key_delete"] == 1


async def test_every_path_is_served_under_v1_and_unversioned() -> None:
    fake = FakeClerk()
    headers = {"Authorization": f"Bearer {fake.secret_key}"}
    key = fake.api_key()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.api_url) as http:
        for prefix in ("", "/v1"):
            verified = await http.post(f"{prefix}/api_keys/verify", json={"secret": key})
            assert verified.status_code == 401  # no key: Clerk's 401, not a 404
            answer = await http.post(
                f"{prefix}/api_keys/verify", json={"secret": key}, headers=headers
            )
            assert answer.status_code == 200
            assert (await http.get(f"{prefix}/jwks", headers=headers)).status_code == 200
            assert (await http.get(f"{prefix}/machines", headers=headers)).status_code == 200
    error = json.loads(verified.content)
    assert error["errors"][0]["code"] == "clerk_key_invalid" and error["clerk_trace_id"]
