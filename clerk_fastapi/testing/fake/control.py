"""Minting from a description, in-process or over HTTP: what lets ``python -m
clerk_fastapi.testing mint`` make tokens a running fake (``serve``) knows, opaque ones included.

``POST /_fake/tokens`` with ``Authorization: Bearer <the fake's secret key>`` and a JSON
description (``{"kind": "api_key", "scopes": ["read"]}``) answers ``{"token": "..."}``. It is not
a Clerk endpoint: it is neither counted in ``hits`` nor recorded in ``requests``, and faults do
not apply to it.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.testing.fake.api import BackendAPI

Format = Literal["jwt", "opaque"]

MINT_PATH = "/_fake/tokens"


@dataclass(frozen=True)
class MintKind:
    """One kind the mint description (and the CLI's ``mint KIND``) knows."""

    what: str  # e.g. "an M2M token", for help texts and errors
    formats: tuple[Format, ...]  # the first is the default: the same as the fake's method's


# The one table of kinds: the CLI builds its choices, help and defaults from it.
KINDS: dict[str, MintKind] = {
    "session": MintKind("a session token", ("jwt",)),
    "oauth": MintKind("an OAuth access token", ("jwt", "opaque")),  # fake.oauth_token()
    "m2m": MintKind("an M2M token", ("opaque", "jwt")),  # opaque, as Clerk's default
    "api_key": MintKind("an API key", ("opaque",)),
}


class MintError(ValueError):
    """A description that cannot be minted (unknown kind, bad option)."""


def _strings(spec: dict[str, Any], name: str) -> list[str] | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MintError(f"{name} must be a list of strings")
    return value


def _claims(spec: dict[str, Any]) -> dict[str, Any]:
    claims = spec.get("claims") or {}
    if not isinstance(claims, dict):
        raise MintError("claims must be an object")
    return claims


def token_format(spec: dict[str, Any]) -> Format:
    """The format a description asks for: its ``format``, else its kind's default."""
    kind = KINDS.get(spec.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        raise MintError(f"kind must be one of {', '.join(KINDS)}")
    given = spec.get("format") or kind.formats[0]
    if given not in ("jwt", "opaque"):
        raise MintError("format must be jwt or opaque")
    if given not in kind.formats:
        only = "a JWT" if kind.formats == ("jwt",) else "opaque"
        raise MintError(f"{kind.what} is always {only}")
    fmt: Format = "opaque" if given == "opaque" else "jwt"
    return fmt


def needs_running_fake(spec: dict[str, Any]) -> bool:
    """Opaque tokens and API keys exist only in the fake that verifies them."""
    return token_format(spec) == "opaque"


def mint(fake: BackendAPI, spec: dict[str, Any]) -> str:
    """One token from a description; keys are the CLI's options (``user_id``, ``scopes``...)."""
    kind = spec.get("kind")
    expires_in = spec.get("expires_in", 3600)
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
        raise MintError("expires_in must be a positive number of seconds")
    scopes = _strings(spec, "scopes") or []
    claims = _claims(spec)
    fmt = token_format(spec)
    if kind == "session":
        return fake.session_token(
            spec.get("user_id") or "user_123",
            org=spec.get("org_id"),
            role=spec.get("role"),
            permissions=_strings(spec, "permissions"),
            features=_strings(spec, "features"),
            plans=_strings(spec, "plans"),
            expires_in=expires_in,
            **claims,
        )
    if kind == "oauth":
        return fake.oauth_token(
            fmt,
            scopes=scopes,
            user_id=spec.get("user_id") or "user_123",
            client_id=spec.get("client_id"),
            expires_in=expires_in,
            **claims,
        )
    if kind == "m2m":
        return fake.m2m_token(
            fmt,
            machine_id=spec.get("machine_id"),
            scopes=scopes,
            claims=claims or None,
            expires_in=expires_in,
        )
    if kind == "api_key":
        return fake.api_key(
            subject=spec.get("subject") or spec.get("user_id") or "user_123",
            scopes=scopes,
            name=spec.get("name") or "cli",
            claims=claims or None,
            expires_in=expires_in,
        )
    raise MintError(f"kind must be one of {', '.join(KINDS)}")


def control_routes(fake: BackendAPI) -> list[Route]:
    async def mint_endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {fake.secret_key}".encode()):
            return JSONResponse({"error": "pass the fake's secret key as a Bearer token"}, 401)
        try:
            spec = json.loads(await request.body())
            if not isinstance(spec, dict):
                raise MintError("send a JSON object")
            return JSONResponse({"token": mint(fake, spec)})
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)

    return [Route(MINT_PATH, mint_endpoint, methods=["POST"])]
