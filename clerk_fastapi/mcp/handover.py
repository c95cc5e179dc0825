"""A verified Clerk OAuth token as the fields of an MCP ``AccessToken`` (both frameworks use the
SDK's model), and the hand-over from ``MCPResource.protect()`` to the adapters' verifiers. No
import of an MCP package, nor of ``resource`` (which imports the guard that uses this)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from clerk_fastapi.principals import OAuthAuth

# The token ``MCPResource.protect()`` verified for the request now running (with the resource
# that verified it) and its fields: the adapters' verifiers, which the framework calls for the
# same request, reuse it instead of verifying again.
_GUARDED: ContextVar[tuple[object, str, dict[str, Any]] | None] = ContextVar(
    "clerk_fastapi_mcp_guarded", default=None
)


@contextmanager
def verified_by_guard(resource: object, token: str, fields: dict[str, Any]) -> Iterator[None]:
    reset = _GUARDED.set((resource, token, fields))
    try:
        yield
    finally:
        _GUARDED.reset(reset)


def guarded_fields(resource: object, token: str) -> dict[str, Any] | None:
    """The fields ``protect()`` verified for ``token`` with ``resource`` in this request."""
    guarded = _GUARDED.get()
    if guarded is not None and guarded[0] is resource and guarded[1] == token:
        return dict(guarded[2])
    return None


def access_token_fields(
    token: str, auth: OAuthAuth, *, issuer: str, resource: str | None
) -> dict[str, Any]:
    """``client_id``, ``scopes``, ``expires_at``, ``subject`` (the user), ``resource`` (the
    resource URL when ``aud`` names it) and ``claims`` with ``iss``: the SDK binds a session to
    ``(client_id, iss, subject)``, so another user's token cannot continue it."""
    claims: dict[str, Any] = dict(auth.claims or {})
    claims["iss"] = issuer
    claims["sub"] = auth.user_id
    return {
        "token": token,
        "client_id": auth.client_id,
        "scopes": list(auth.scopes),
        "expires_at": int(auth.expiration.timestamp()) if auth.expiration else None,
        "resource": resource,
        "subject": auth.user_id,
        "claims": claims,
    }
