"""What a route requires of a verified principal, and which of it the principal lacks.

``scopes`` apply to scoped machine tokens; ``permissions``, ``roles``, ``features``, ``plans``
and ``reverification`` apply to sessions through ``has()`` and fail closed for machine tokens.
``machines`` lists the calling machines an M2M token may come from; anything else fails it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.authorization import REVERIFICATION_PRESETS
from clerk_fastapi.kinds.m2m import MACHINE_ID_PREFIX
from clerk_fastapi.kinds.registry import SESSION_TOKEN
from clerk_fastapi.principals import M2MAuth, SessionAuth

# RFC 6750 section 3: scope-token characters.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# The name a refused caller sees in ``scope=``: the allowed machine ids are not disclosed.
MACHINES = "machines"


def names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not SCOPE_TOKEN.fullmatch(item):
            raise ValueError(
                f"{what} entries must be non-empty strings without spaces, quotes or "
                f"backslashes; got {item!r}"
            )
    return items


@dataclass(frozen=True, slots=True)
class Requirements:
    scopes: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    reverification: str | Mapping[str, Any] | None = None
    machines: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        scopes: str | Iterable[str] = (),
        permissions: str | Iterable[str] = (),
        roles: str | Iterable[str] = (),
        features: str | Iterable[str] = (),
        plans: str | Iterable[str] = (),
        reverification: str | Mapping[str, Any] | None = None,
        machines: str | Iterable[str] = (),
    ) -> Requirements:
        """Validate the names (at declaration time, so a typo fails at import)."""
        if isinstance(reverification, str) and reverification not in REVERIFICATION_PRESETS:
            raise ValueError(
                f"reverification must be one of {tuple(REVERIFICATION_PRESETS)} or "
                "{'level': ..., 'afterMinutes': ...}"
            )
        allowed = names(machines, "machines")
        if any(not machine.startswith(MACHINE_ID_PREFIX) for machine in allowed):
            raise ValueError("machines entries are machine ids (mch_...)")
        return cls(
            machines=allowed,
            scopes=names(scopes, "scopes"),
            permissions=names(permissions, "permissions"),
            roles=names(roles, "roles"),
            features=names(features, "features"),
            plans=names(plans, "plans"),
            reverification=(
                dict(reverification) if isinstance(reverification, Mapping) else reverification
            ),
        )

    def refuse_meaningless(self, accepts: Accepts, extra_scopes: Sequence[str] = ()) -> None:
        """Raise ``ValueError`` for a requirement no accepted type can meet (at declaration
        time): every request would pass it unchecked, or fail it whatever the token."""
        if accepts.any:
            return
        scopes = [*self.scopes, *extra_scopes]
        if scopes and accepts.types == {SESSION_TOKEN}:
            raise ValueError(
                f"scopes {scopes!r} on an Auth that accepts only session tokens would let every "
                "signed-in user through: session tokens carry no scopes (as in Clerk). Require "
                "permissions=/roles= (organization membership) instead, or accept a scoped "
                "type (oauth_token, api_key, m2m_token)."
            )
        session_only = {
            "permissions": self.permissions,
            "roles": self.roles,
            "features": self.features,
            "plans": self.plans,
            "reverification": () if self.reverification is None else ("reverification",),
        }
        given = [name for name, value in session_only.items() if value]
        if given and SESSION_TOKEN not in accepts.types:
            raise ValueError(
                f"{'=, '.join(given)}= apply to session tokens only, and this Auth accepts "
                f"{sorted(accepts.types)}: every request would be refused. Use scopes= for "
                "OAuth tokens and API keys, machines= for M2M callers, or accept session_token."
            )

    @property
    def empty(self) -> bool:
        return not (
            self.scopes
            or self.permissions
            or self.roles
            or self.features
            or self.plans
            or self.reverification is not None
            or self.machines
        )

    def missing(self, principal: BaseModel, extra_scopes: Sequence[str] = ()) -> list[str]:
        """The required names this principal lacks (empty: authorised)."""
        if not extra_scopes and self.empty:
            return []
        reverification = (
            dict(self.reverification)
            if isinstance(self.reverification, Mapping)
            else self.reverification
        )
        # Who may call: only an M2M token from a listed machine passes (fails closed otherwise).
        if self.machines and not (
            isinstance(principal, M2MAuth) and principal.machine_id in self.machines
        ):
            return [MACHINES]
        if isinstance(principal, SessionAuth):
            lacking = [p for p in self.permissions if not principal.has(permission=p)]
            lacking += [f for f in self.features if not principal.has(feature=f)]
            if self.roles and not any(principal.has(role=r) for r in self.roles):
                lacking += list(self.roles)
            if self.plans and not any(principal.has(plan=p) for p in self.plans):
                lacking += list(self.plans)
            if reverification is not None and not principal.has(reverification=reverification):
                lacking.append("reverification")
            return lacking
        # Machine tokens: has() is always false, so session-only checks fail closed.
        lacking = [*self.permissions, *self.roles, *self.features, *self.plans]
        if reverification is not None:
            lacking.append("reverification")
        held = set(getattr(principal, "scopes", ()) or ())
        for scope in dict.fromkeys([*self.scopes, *extra_scopes]):
            if scope not in held:
                lacking.append(scope)
        return lacking
