"""The fake's machines: each with a secret key and the machines it may call (its scopes), and
the ``/machines`` endpoints (instance secret key only; served under ``/v1`` and unversioned).

What it does as Clerk does (reference section 3.7, Clerk's M2M guide): a token created with a
machine's secret key has that machine as ``subject`` and the machines it may call as ``scopes``;
a scope change applies to tokens created afterwards only; a rotated key keeps working for
``previous_token_ttl`` seconds; ``default_token_ttl`` is the lifetime of a token created without
one; a scope that exists answers 409.

What Clerk does not document, and the fake's choice:

- Verifying an M2M token with a machine secret key: Clerk requires a valid machine key; whether
  it also refuses a token whose ``scopes`` do not name the verifying machine is not documented.
  The fake accepts it (``FakeClerk.machine_verify_requires_scope = True`` makes it answer 404
  instead), so a receiver must check scopes or callers itself (``Auth(machines=...)``,
  ``Auth(scopes=[own machine id])``) and a test of that check cannot pass by accident.
- Tokens created with a key that was rotated out stay valid until they expire or are revoked.
- The 409 error code (``duplicate_record``) and 422 codes are the fake's.
- The "Default machine" (``default_machine_id``, ``machine_secret_key``) cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.testing.fake._common import error, not_found, page, random_text
from clerk_fastapi.testing.fake.minting import Minting

DEFAULT_TOKEN_TTL = 3600
MAX_TOKEN_TTL = 315_360_000
MAX_PREVIOUS_TOKEN_TTL = 28_800
MAX_SCOPED = 150


@dataclass
class FakeMachine:
    """A machine of the fake instance. ``secret_key`` is what its service sets as
    ``CLERK_MACHINE_SECRET_KEY``; ``scoped_machines`` are the ids it may call."""

    id: str
    name: str
    secret_key: str = field(repr=False)
    default_token_ttl: int = DEFAULT_TOKEN_TTL
    scoped_machines: list[str] = field(default_factory=list)
    created_at: int = 0
    updated_at: int = 0
    previous_secret_key: str | None = field(default=None, repr=False)
    previous_valid_until: float = 0.0


def _secret() -> str:
    return "ak_" + random_text(40)


class Machines(Minting):
    """The machine registry and its Backend API endpoints (mixed into ``FakeClerk``)."""

    secret_key: str
    instance_id: str
    machine_verify_requires_scope: bool

    def _init_machines(self) -> None:
        self.machines: dict[str, FakeMachine] = {}
        self.machine_verify_requires_scope = False
        self.default_machine_id = self.add_machine("Default machine").id

    @property
    def machine_secret_key(self) -> str:
        """The default machine's secret key (``fake.clerk(machine_secret_key=...)``)."""
        return self.machines[self.default_machine_id].secret_key

    # -- Python API for tests -----------------------------------------------------------------

    def add_machine(
        self,
        name: str,
        *,
        scoped_machines: list[str] | None = None,
        default_token_ttl: int = DEFAULT_TOKEN_TTL,
    ) -> FakeMachine:
        """Create a machine directly (no HTTP call, nothing counted)."""
        now = self._now_ms()
        machine = FakeMachine(
            id="mch_" + random_text(27),
            name=name,
            secret_key=_secret(),
            default_token_ttl=default_token_ttl,
            scoped_machines=list(dict.fromkeys(scoped_machines or [])),
            created_at=now,
            updated_at=now,
        )
        unknown = [m for m in machine.scoped_machines if m not in self.machines]
        if unknown:
            raise KeyError(f"unknown machines: {unknown}")
        self.machines[machine.id] = machine
        return machine

    def allow(self, from_machine: str, to_machine: str) -> None:
        """Let ``from_machine`` call ``to_machine`` (tokens created from now on)."""
        scoped = self.machines[from_machine].scoped_machines
        if to_machine not in self.machines:
            raise KeyError(to_machine)
        if to_machine not in scoped:
            scoped.append(to_machine)

    def machines_that_talk(
        self, caller: str = "service-a", receiver: str = "service-b", *, both_ways: bool = False
    ) -> tuple[FakeMachine, FakeMachine]:
        """Two machines, the first allowed to call the second (and back with ``both_ways``)."""
        b = self.add_machine(receiver)
        a = self.add_machine(caller, scoped_machines=[b.id])
        if both_ways:
            self.allow(b.id, a.id)
        return a, b

    def machine_for_key(self, key: str) -> FakeMachine | None:
        """The machine whose current key, or previous key within its grace time, is ``key``."""
        for machine in self.machines.values():
            if key == machine.secret_key:
                return machine
            if key == machine.previous_secret_key and self.clock() < machine.previous_valid_until:
                return machine
        return None

    def _machine_of(self, request: Request) -> FakeMachine | None:
        auth = request.headers.get("authorization", "")
        return self.machine_for_key(auth[7:]) if auth.startswith("Bearer ") else None

    # -- wire JSON ------------------------------------------------------------------------------

    def machine_json(self, machine: FakeMachine, *, nested: bool = False) -> dict[str, Any]:
        return {
            "object": "machine",
            "id": machine.id,
            "name": machine.name,
            "instance_id": self.instance_id,
            "created_at": machine.created_at,
            "updated_at": machine.updated_at,
            "default_token_ttl": machine.default_token_ttl,
            "scoped_machines": []
            if nested
            else [
                self.machine_json(self.machines[m], nested=True)
                for m in machine.scoped_machines
                if m in self.machines
            ],
        }

    # -- endpoints ------------------------------------------------------------------------------

    def _machine_routes(self, endpoint: Any) -> list[Route]:
        one = "/machines/{machine_id}"
        return [
            Route("/machines", endpoint("machine_list", self._list), methods=["GET"]),
            Route("/machines", endpoint("machine_create", self._create), methods=["POST"]),
            Route(one, endpoint("machine_get", self._get), methods=["GET"]),
            Route(one, endpoint("machine_update", self._update), methods=["PATCH"]),
            Route(one, endpoint("machine_delete", self._delete), methods=["DELETE"]),
            Route(f"{one}/secret_key", endpoint("machine_secret_key", self._key), methods=["GET"]),
            Route(
                f"{one}/secret_key/rotate",
                endpoint("machine_rotate", self._rotate),
                methods=["POST"],
            ),
            Route(
                f"{one}/scopes", endpoint("machine_scope_create", self._add_scope), methods=["POST"]
            ),
            Route(
                f"{one}/scopes/{{other_id}}",
                endpoint("machine_scope_delete", self._delete_scope),
                methods=["DELETE"],
            ),
        ]

    def _found(self, request: Request) -> FakeMachine | None:
        return self.machines.get(request.path_params["machine_id"])

    async def _list(self, request: Request, body: Any) -> Response:
        params = request.query_params
        items = list(self.machines.values())
        query = params.get("query")
        if query:
            items = [m for m in items if m.id == query or query.lower() in m.name.lower()]
        order = params.get("order_by") or "-created_at"
        key = order.lstrip("+-")
        if key not in ("name", "created_at"):
            return error(422, "order_by is invalid", "form_param_value_invalid")
        # Ties (same millisecond) keep creation order, as Clerk's ids would.
        ranked = list(enumerate(items))
        ranked.sort(key=lambda pair: (getattr(pair[1], key), pair[0]), reverse=order[0] == "-")
        listed = [self.machine_json(m) for _, m in ranked]
        picked = page(listed, request, status=422, max_limit=500)
        if isinstance(picked, Response):
            return picked
        return JSONResponse({"data": picked, "total_count": len(listed)})

    def _check(self, body: dict[str, Any], *, creating: bool) -> Response | None:
        name = body.get("name")
        if (creating or "name" in body) and (
            not isinstance(name, str) or not 1 <= len(name) <= 255
        ):
            return error(422, "name must be 1 to 255 characters", "form_param_value_invalid")
        ttl = body.get("default_token_ttl")
        if ttl is not None and (
            not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= MAX_TOKEN_TTL
        ):
            return error(422, "default_token_ttl is out of range", "form_param_value_invalid")
        scoped = body.get("scoped_machines")
        if scoped is not None and (
            not isinstance(scoped, list)
            or len(scoped) > MAX_SCOPED
            or any(m not in self.machines for m in scoped)
        ):
            return error(422, "scoped_machines has an unknown machine", "form_param_value_invalid")
        return None

    async def _create(self, request: Request, body: Any) -> Response:
        body = body if isinstance(body, dict) else {}
        refused = self._check(body, creating=True)
        if refused is not None:
            return refused
        machine = self.add_machine(
            body["name"],
            scoped_machines=body.get("scoped_machines"),
            default_token_ttl=body.get("default_token_ttl") or DEFAULT_TOKEN_TTL,
        )
        return JSONResponse({**self.machine_json(machine), "secret_key": machine.secret_key})

    async def _get(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        if machine is None:
            return not_found("machine not found")
        return JSONResponse(self.machine_json(machine))

    async def _update(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        if machine is None:
            return not_found("machine not found")
        body = body if isinstance(body, dict) else {}
        refused = self._check(body, creating=False)
        if refused is not None:
            return refused
        if "name" in body:
            machine.name = body["name"]
        if body.get("default_token_ttl") is not None:
            machine.default_token_ttl = body["default_token_ttl"]
        machine.updated_at = self._now_ms()
        return JSONResponse(self.machine_json(machine))

    async def _delete(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        if machine is None or machine.id == self.default_machine_id:
            return not_found("machine not found")
        del self.machines[machine.id]
        for other in self.machines.values():
            if machine.id in other.scoped_machines:
                other.scoped_machines.remove(machine.id)
        return JSONResponse({"object": "machine", "id": machine.id, "deleted": True})

    async def _key(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        if machine is None:
            return not_found("machine not found")
        return JSONResponse({"object": "machine_secret_key", "secret": machine.secret_key})

    async def _rotate(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        if machine is None:
            return not_found("machine not found")
        grace = body.get("previous_token_ttl") if isinstance(body, dict) else None
        if (
            not isinstance(grace, int)
            or isinstance(grace, bool)
            or not 0 <= grace <= MAX_PREVIOUS_TOKEN_TTL
        ):
            return error(422, "previous_token_ttl is out of range", "form_param_value_invalid")
        machine.previous_secret_key = machine.secret_key
        machine.previous_valid_until = self.clock() + grace
        machine.secret_key = _secret()
        return JSONResponse({"object": "machine_secret_key", "secret": machine.secret_key})

    async def _add_scope(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        target = body.get("to_machine_id") if isinstance(body, dict) else None
        if machine is None or not isinstance(target, str) or target not in self.machines:
            return not_found("machine not found")
        if target in machine.scoped_machines:
            return error(409, "This machine scope already exists", "duplicate_record")
        self.allow(machine.id, target)
        return JSONResponse(
            {
                "object": "machine_scope",
                "from_machine_id": machine.id,
                "to_machine_id": target,
                "created_at": self._now_ms(),
            }
        )

    async def _delete_scope(self, request: Request, body: Any) -> Response:
        machine = self._found(request)
        other = request.path_params["other_id"]
        if machine is None or other not in machine.scoped_machines:
            return not_found("machine not found")
        machine.scoped_machines.remove(other)
        return JSONResponse(
            {
                "object": "machine_scope",
                "from_machine_id": machine.id,
                "to_machine_id": other,
                "deleted": True,
            }
        )
