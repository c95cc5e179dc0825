"""Backend API calls for machines: your services as Clerk knows them, their secret keys, and
which machine may call which (scopes).

Unlike the token endpoints, these are versioned (``/v1/machines``, as in Clerk's SDK) and every
call authenticates with the instance secret key (``CLERK_SECRET_KEY``), never a machine's.
"""

from __future__ import annotations

from typing import Literal

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import (
    DeletedObject,
    Machine,
    MachineScope,
    MachineSecretKey,
    Page,
)

BASE = "/v1/machines"

OrderBy = Literal["name", "+name", "-name", "created_at", "+created_at", "-created_at"]


class Machines(_api.BackendAPI):
    """``clerk.machines``. Every call needs ``CLERK_SECRET_KEY`` and raises ``ClerkAPIError``
    with Clerk's error codes (404 for an unknown machine, 409 for a scope that exists)."""

    def _path(self, machine_id: str, *rest: str) -> str:
        return "/".join([BASE, _api.path_id(machine_id), *rest])

    async def create(
        self,
        *,
        name: str,
        scoped_machines: list[str] | None = None,
        default_token_ttl: int | None = None,
    ) -> Machine:
        """Create a machine that may call ``scoped_machines`` (their ids).

        The answer's ``.secret_key`` is the new machine's secret key, the one its service sets
        as ``CLERK_MACHINE_SECRET_KEY``. ``default_token_ttl`` (seconds) is the lifetime of its
        M2M tokens when a token is created without one (Clerk's default: 3600).
        """
        payload = _api.body(
            name=name, scoped_machines=scoped_machines, default_token_ttl=default_token_ttl
        )
        data = await self._http.request("POST", BASE, secret=self._secret(), json=payload)
        return _api.resource(Machine, data)

    async def get(self, machine_id: str) -> Machine:
        data = await self._http.request("GET", self._path(machine_id), secret=self._secret())
        return _api.resource(Machine, data)

    async def update(
        self,
        machine_id: str,
        *,
        name: str | None = None,
        default_token_ttl: int | None = None,
    ) -> Machine:
        """Rename a machine or change its default token lifetime (what is left out is kept)."""
        data = await self._http.request(
            "PATCH",
            self._path(machine_id),
            secret=self._secret(),
            json=_api.body(name=name, default_token_ttl=default_token_ttl),
        )
        return _api.resource(Machine, data)

    async def delete(self, machine_id: str) -> DeletedObject:
        """Delete a machine; the answer keeps its id (``deleted=True``)."""
        data = await self._http.request("DELETE", self._path(machine_id), secret=self._secret())
        return _api.resource(DeletedObject, data)

    async def get_secret_key(self, machine_id: str) -> MachineSecretKey:
        data = await self._http.request(
            "GET", self._path(machine_id, "secret_key"), secret=self._secret()
        )
        return _api.resource(MachineSecretKey, data)

    async def rotate_secret_key(
        self, machine_id: str, *, previous_token_ttl: int
    ) -> MachineSecretKey:
        """Give a machine a new secret key. The old one keeps working for
        ``previous_token_ttl`` seconds (0 to 28800; 0: stops at once, and 0 is sent)."""
        data = await self._http.request(
            "POST",
            self._path(machine_id, "secret_key", "rotate"),
            secret=self._secret(),
            json={"previous_token_ttl": previous_token_ttl},
        )
        return _api.resource(MachineSecretKey, data)

    async def create_scope(self, machine_id: str, to_machine_id: str) -> MachineScope:
        """Let ``machine_id`` call ``to_machine_id`` (409 if it already may).

        Only tokens created from now on carry the new scope; existing ones keep theirs.
        """
        data = await self._http.request(
            "POST",
            self._path(machine_id, "scopes"),
            secret=self._secret(),
            json={"to_machine_id": to_machine_id},
        )
        return _api.resource(MachineScope, data)

    async def delete_scope(self, machine_id: str, other_machine_id: str) -> MachineScope:
        """Stop ``machine_id`` from calling ``other_machine_id``; the answer (``deleted=True``)
        keeps both ids."""
        data = await self._http.request(
            "DELETE",
            self._path(machine_id, "scopes", _api.path_id(other_machine_id)),
            secret=self._secret(),
        )
        return _api.resource(MachineScope, data)

    async def list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order_by: OrderBy | None = None,
        query: str | None = None,
    ) -> Page[Machine]:
        """One page of machines. ``order_by``: ``name`` or ``created_at``, ``-`` for descending
        (Clerk's default is ``-created_at``); ``query``: an exact id or part of a name."""
        params = _api.query(limit=limit, offset=offset, order_by=order_by, query=query)
        data = await self._http.request("GET", BASE, secret=self._secret(), params=params)
        return _api.page(Machine, data, "data")
