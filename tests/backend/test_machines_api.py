"""clerk.machines and the rest of clerk.api_keys on the wire, then on the fake Clerk.

The wire table below is reference section 3.7 (Clerk's JS backend 3.25.0): machines are under
``/v1`` and use the instance secret key even when a machine secret key is configured; API keys
have no ``/v1``. ``Wire`` is a scripted Backend API that records each request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi import Clerk, ClerkAPIError, ConfigurationError, TokenVerificationError
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
SECRET = "sk_test_wire_secret_0123456789"
MACHINE_KEY = "ak_wire_machine_secret_0123456789"

MACHINE_JSON = {
    "object": "machine",
    "id": "mch_1",
    "name": "billing",
    "instance_id": "ins_1",
    "created_at": 1754938436732,
    "updated_at": 1754938436999,
    "default_token_ttl": 900,
    "scoped_machines": [
        {
            "object": "machine",
            "id": "mch_2",
            "name": "ledger",
            "instance_id": "ins_1",
            "created_at": 1754938400000,
            "updated_at": 1754938400000,
            "default_token_ttl": 3600,
            "scoped_machines": [],
        }
    ],
}
API_KEY_JSON = {"object": "api_key", "id": "ak_1", "subject": "user_1", "name": "ci"}


@dataclass
class Wire:
    body: Any = None
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)

    def clerk(self, **settings: Any) -> Clerk:
        async def handle(request: Request) -> Response:
            raw = await request.body()
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                    "json": json.loads(raw) if raw else None,
                }
            )
            return JSONResponse(self.body, status_code=self.status)

        methods = ["GET", "POST", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
        values: dict[str, Any] = {"secret_key": SECRET, "api_url": "https://api.clerk.test"}
        values.update(settings)
        return Clerk(transport=httpx.ASGITransport(app=app), **values)


Call = Callable[[Clerk], Awaitable[Any]]

# (name, call, method, path, query, body, answer): the reference table, row by row.
TABLE: list[tuple[str, Call, str, str, dict[str, str], Any, Any]] = [
    (
        "machines.list",
        lambda c: c.machines.list(limit=5, offset=10, order_by="-name", query="bill"),
        "GET", "/v1/machines",
        {"limit": "5", "offset": "10", "order_by": "-name", "query": "bill"}, None,
        {"data": [MACHINE_JSON], "total_count": 1},
    ),
    (
        "machines.create",
        lambda c: c.machines.create(
            name="billing", scoped_machines=["mch_2"], default_token_ttl=900
        ),
        "POST", "/v1/machines", {},
        {"name": "billing", "scoped_machines": ["mch_2"], "default_token_ttl": 900},
        {**MACHINE_JSON, "secret_key": "ak_new_machine_key"},
    ),
    (
        "machines.create (name only)",
        lambda c: c.machines.create(name="billing"),
        "POST", "/v1/machines", {}, {"name": "billing"}, MACHINE_JSON,
    ),
    (
        "machines.get",
        lambda c: c.machines.get("mch_1"),
        "GET", "/v1/machines/mch_1", {}, None, MACHINE_JSON,
    ),
    (
        "machines.update",
        lambda c: c.machines.update("mch_1", name="billing-2", default_token_ttl=60),
        "PATCH", "/v1/machines/mch_1", {}, {"name": "billing-2", "default_token_ttl": 60},
        MACHINE_JSON,
    ),
    (
        "machines.update (ttl only)",
        lambda c: c.machines.update("mch_1", default_token_ttl=60),
        "PATCH", "/v1/machines/mch_1", {}, {"default_token_ttl": 60}, MACHINE_JSON,
    ),
    (
        "machines.delete",
        lambda c: c.machines.delete("mch_1"),
        "DELETE", "/v1/machines/mch_1", {}, None,
        {"object": "machine", "id": "mch_1", "deleted": True},
    ),
    (
        "machines.get_secret_key",
        lambda c: c.machines.get_secret_key("mch_1"),
        "GET", "/v1/machines/mch_1/secret_key", {}, None,
        {"object": "machine_secret_key", "secret": "ak_current"},
    ),
    (
        "machines.rotate_secret_key (0 is sent)",
        lambda c: c.machines.rotate_secret_key("mch_1", previous_token_ttl=0),
        "POST", "/v1/machines/mch_1/secret_key/rotate", {}, {"previous_token_ttl": 0},
        {"object": "machine_secret_key", "secret": "ak_rotated"},
    ),
    (
        "machines.create_scope",
        lambda c: c.machines.create_scope("mch_1", "mch_2"),
        "POST", "/v1/machines/mch_1/scopes", {}, {"to_machine_id": "mch_2"},
        {"object": "machine_scope", "from_machine_id": "mch_1", "to_machine_id": "mch_2",
         "created_at": 1754938436732},
    ),
    (
        "machines.delete_scope",
        lambda c: c.machines.delete_scope("mch_1", "mch_2"),
        "DELETE", "/v1/machines/mch_1/scopes/mch_2", {}, None,
        {"object": "machine_scope", "from_machine_id": "mch_1", "to_machine_id": "mch_2",
         "deleted": True},
    ),
    (
        "api_keys.get",
        lambda c: c.api_keys.get("ak_1"),
        "GET", "/api_keys/ak_1", {}, None, API_KEY_JSON,
    ),
    (
        "api_keys.update",
        lambda c: c.api_keys.update(
            "ak_1", subject="user_1", description="d", scopes=["read"], claims={"a": 1},
            seconds_until_expiration=60,
        ),
        "PATCH", "/api_keys/ak_1", {},
        {"subject": "user_1", "description": "d", "scopes": ["read"], "claims": {"a": 1},
         "seconds_until_expiration": 60},
        API_KEY_JSON,
    ),
    (
        "api_keys.delete",
        lambda c: c.api_keys.delete("ak_1"),
        "DELETE", "/api_keys/ak_1", {}, None, {"object": "api_key", "id": "ak_1", "deleted": True},
    ),
    (
        "api_keys.get_secret",
        lambda c: c.api_keys.get_secret("ak_1"),
        "GET", "/api_keys/ak_1/secret", {}, None, {"secret": "ak_the_secret"},
    ),
    (
        "api_keys.list (include_invalid)",
        lambda c: c.api_keys.list(subject="mch_1", include_invalid=True),
        "GET", "/api_keys", {"subject": "mch_1", "include_invalid": "true"}, None,
        {"data": [API_KEY_JSON], "total_count": 1},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body", "answer"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
async def test_each_call_on_the_wire(
    call: Call, method: str, path: str, query: dict[str, str], body: Any, answer: Any
) -> None:
    """Method, path (``/v1`` for machines only), query, body, and the instance secret key, even
    with a machine secret key configured."""
    wire = Wire(body=answer)
    await call(wire.clerk(machine_secret_key=MACHINE_KEY))
    (sent,) = wire.requests
    assert (sent["method"], sent["path"]) == (method, path)
    assert sent["query"] == query
    assert sent["json"] == body
    assert sent["headers"]["authorization"] == f"Bearer {SECRET}"
    assert sent["headers"]["clerk-api-version"] == "2026-05-12"
    assert (sent["headers"].get("content-type") == "application/json") is (body is not None)


async def test_answers_map_to_typed_resources() -> None:
    wire = Wire(body={**MACHINE_JSON, "secret_key": "ak_new_machine_key"})
    clerk = wire.clerk()
    created = await clerk.machines.create(name="billing")
    assert (created.id, created.name, created.instance_id) == ("mch_1", "billing", "ins_1")
    assert (created.default_token_ttl, created.created_at) == (900, 1754938436732)
    assert created.created_at_datetime is not None
    assert created.created_at_datetime.timestamp() == 1754938436.732
    assert created.scoped_machine_ids == ["mch_2"]
    assert created.scoped_machines[0].name == "ledger"
    assert created.scoped_machines[0].scoped_machines == []
    assert created.secret_key == "ak_new_machine_key"
    assert "ak_new_machine_key" not in repr(created) + str(created)

    wire.body = {"data": [MACHINE_JSON, {**MACHINE_JSON, "id": "mch_3"}], "total_count": 7}
    page = await clerk.machines.list()
    assert [m.id for m in page.data] == ["mch_1", "mch_3"] and page.total_count == 7
    assert page.data[0].secret_key is None

    # Deleted objects keep the ids that Clerk's JS SDK loses.
    wire.body = {"object": "machine", "id": "mch_1", "deleted": True}
    deleted = await clerk.machines.delete("mch_1")
    assert (deleted.object, deleted.id, deleted.deleted) == ("machine", "mch_1", True)
    wire.body = {
        "object": "machine_scope",
        "from_machine_id": "mch_1",
        "to_machine_id": "mch_2",
        "deleted": True,
    }
    scope = await clerk.machines.delete_scope("mch_1", "mch_2")
    assert (scope.from_machine_id, scope.to_machine_id, scope.deleted) == ("mch_1", "mch_2", True)

    wire.body = {"object": "machine_secret_key", "secret": "ak_rotated"}
    key = await clerk.machines.rotate_secret_key("mch_1", previous_token_ttl=60)
    assert key.secret == "ak_rotated" and "ak_rotated" not in repr(key)
    wire.body = {"secret": "ak_the_secret"}
    secret = await clerk.api_keys.get_secret("ak_1")
    assert secret.secret == "ak_the_secret" and "ak_the_secret" not in repr(secret)


@pytest.mark.parametrize("body", [[], {"id": "mch_1"}, {"data": "x", "total_count": 1}])
async def test_unusable_answers_are_api_errors(body: Any) -> None:
    wire = Wire(body=body)
    with pytest.raises(ClerkAPIError) as caught:
        if isinstance(body, dict) and "data" in body:
            await wire.clerk().machines.list()
        else:
            await wire.clerk().machines.get("mch_1")  # no name: not a machine
    assert caught.value.code == "invalid_response_body"


async def test_bad_ids_and_a_missing_secret_key_fail_before_any_request() -> None:
    wire = Wire(body={})
    clerk = wire.clerk()
    for bad in ("", "../users", "mch_1/scopes", "mch_1?x=1", "mch 1", "%2e%2e", "."):
        for call in (
            clerk.machines.get(bad),
            clerk.machines.update(bad, name="n"),
            clerk.machines.delete(bad),
            clerk.machines.get_secret_key(bad),
            clerk.machines.rotate_secret_key(bad, previous_token_ttl=0),
            clerk.machines.create_scope(bad, "mch_2"),
            clerk.machines.delete_scope(bad, "mch_2"),
            clerk.machines.delete_scope("mch_1", bad),
            clerk.api_keys.get(bad),
            clerk.api_keys.update(bad, subject="user_1"),
            clerk.api_keys.delete(bad),
            clerk.api_keys.get_secret(bad),
        ):
            with pytest.raises(ValueError):
                await call
    fake = FakeClerk()
    networkless = Clerk(jwt_key=fake.signing_key.public_pem(), transport=fake.transport())
    with pytest.raises(ConfigurationError):
        await networkless.machines.list()
    with pytest.raises(ConfigurationError):
        await networkless.machines.create(name="n")
    assert wire.requests == [] and fake.requests == []


# -- on the fake Clerk --------------------------------------------------------------------------


async def test_machines_lifecycle_on_the_fake() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    admin = fake.clerk()
    ledger = await admin.machines.create(name="ledger", default_token_ttl=120)
    billing = await admin.machines.create(name="billing", scoped_machines=[ledger.id])
    assert billing.secret_key and billing.secret_key.startswith("ak_")
    assert billing.scoped_machine_ids == [ledger.id]
    assert (await admin.machines.get(billing.id)).secret_key is None  # only on create
    key = await admin.machines.get_secret_key(billing.id)
    assert key.secret == billing.secret_key

    names = [m.name for m in (await admin.machines.list(order_by="name")).data]
    assert names == sorted(names) and {"ledger", "billing"} <= set(names)
    assert [m.id for m in (await admin.machines.list(query="bill")).data] == [billing.id]
    assert [m.id for m in (await admin.machines.list(query=ledger.id)).data] == [ledger.id]
    assert len((await admin.machines.list(limit=1)).data) == 1

    updated = await admin.machines.update(billing.id, name="billing-v2")
    assert updated.name == "billing-v2" and updated.default_token_ttl == 3600

    # A token created with billing's key: billing is the subject, its scoped machines the scopes.
    as_billing = fake.clerk(machine_secret_key=billing.secret_key)
    token = await as_billing.m2m.create()
    assert token.subject == billing.id and token.scopes == [ledger.id]
    assert token.expiration == int(clock() * 1000) + 3_600_000  # the machine's default_token_ttl
    as_ledger = fake.clerk(machine_secret_key=ledger.secret_key)
    short = await as_ledger.m2m.create()
    assert short.scopes == [] and short.expiration == int(clock() * 1000) + 120_000

    with pytest.raises(ClerkAPIError) as exists:
        await admin.machines.create_scope(billing.id, ledger.id)
    assert exists.value.status == 409
    removed = await admin.machines.delete_scope(billing.id, ledger.id)
    assert (removed.from_machine_id, removed.to_machine_id, removed.deleted) == (
        billing.id,
        ledger.id,
        True,
    )
    assert (await as_billing.m2m.create()).scopes == []  # new tokens only
    assert (await as_billing.m2m.verify(str(token.token))).scopes == [ledger.id]  # old one kept
    scope = await admin.machines.create_scope(billing.id, ledger.id)
    assert (scope.from_machine_id, scope.to_machine_id) == (billing.id, ledger.id)

    gone = await admin.machines.delete(ledger.id)
    assert (gone.id, gone.deleted) == (ledger.id, True)
    assert (await admin.machines.get(billing.id)).scoped_machine_ids == []
    with pytest.raises(ClerkAPIError) as unknown:
        await admin.machines.get(ledger.id)
    assert unknown.value.status == 404
    with pytest.raises(ClerkAPIError) as dead_key:
        await as_ledger.m2m.create()
    assert dead_key.value.status == 401
    with pytest.raises(ClerkAPIError) as machine_key_on_v1:
        await fake.clerk(secret_key="sk_test_" + "z" * 40).machines.list()
    assert machine_key_on_v1.value.status == 401


@pytest.mark.parametrize("grace", [0, 60])
async def test_rotation_honours_previous_token_ttl(grace: int) -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    machine, _ = fake.machines_that_talk()
    old_key = machine.secret_key
    old = fake.clerk(machine_secret_key=old_key)
    before = await old.m2m.create(seconds_until_expiration=3600)
    rotated = await fake.clerk().machines.rotate_secret_key(machine.id, previous_token_ttl=grace)
    assert rotated.secret != old_key and machine.secret_key == rotated.secret
    if grace:
        assert (await old.m2m.create()).subject == machine.id  # the old key, within its grace
        clock.advance(grace)
    with pytest.raises(ClerkAPIError) as refused:
        await old.m2m.create()
    assert (refused.value.status, refused.value.code) == (401, "machine_secret_key_invalid")
    new = fake.clerk(machine_secret_key=rotated.secret)
    assert (await new.m2m.create()).subject == machine.id
    assert (await new.m2m.verify(str(before.token))).id == before.id  # tokens outlive the key


async def test_verify_with_a_machine_secret_key() -> None:
    """A valid machine key is required (Clerk's 401 otherwise). Whether Clerk also refuses a
    token that does not name the verifying machine is not documented: the fake accepts it unless
    told otherwise."""
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    c = fake.add_machine("service-c")
    from_a = str((await fake.clerk(machine_secret_key=a.secret_key).m2m.create()).token)
    from_c = str((await fake.clerk(machine_secret_key=c.secret_key).m2m.create()).token)
    as_b = fake.clerk(machine_secret_key=b.secret_key)
    assert (await as_b.m2m.verify(from_a)).scopes == [b.id]
    assert (await as_b.m2m.verify(from_c)).scopes == []
    fake.machine_verify_requires_scope = True
    assert (await as_b.m2m.verify(from_a)).subject == a.id
    with pytest.raises(TokenVerificationError, match="Machine token not found"):
        await as_b.m2m.verify(from_c)
    assert (await fake.clerk().m2m.verify(from_c)).subject == c.id  # the instance key: no check
    with pytest.raises(ClerkAPIError) as bad_key:  # a key problem, not a token problem
        await fake.clerk(machine_secret_key="ak_" + "n" * 40).m2m.verify(from_a)
    assert bad_key.value.status == 401


async def test_two_machines_that_talk_in_one_line() -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk("caller", "receiver")
    assert (a.name, b.name) == ("caller", "receiver")
    assert a.scoped_machines == [b.id] and b.scoped_machines == []
    assert a.secret_key not in repr(a)
    c, d = fake.machines_that_talk(both_ways=True)
    assert c.scoped_machines == [d.id] and d.scoped_machines == [c.id]
