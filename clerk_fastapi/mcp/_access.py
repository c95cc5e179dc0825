"""What both MCP adapters share: a token verified for the resource, as the fields of an MCP
``AccessToken``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from clerk_fastapi.mcp.resource import MCPResource
from clerk_fastapi.principals import OAuthAuth

# The token ``MCPResource.protect()`` verified for the request now running, and its fields: the
# adapters' verifiers (which the framework calls for the same request) reuse it.
_GUARDED: ContextVar[tuple[MCPResource, str, dict[str, Any]] | None] = ContextVar(
    "clerk_fastapi_mcp_guarded", default=None
)


@contextmanager
def verified_by_guard(resource: MCPResource, token: str, fields: dict[str, Any]) -> Iterator[None]:
    reset = _GUARDED.set((resource, token, fields))
    try:
        yield
    finally:
        _GUARDED.reset(reset)


def access_token_fields(resource: MCPResource, token: str, auth: OAuthAuth) -> dict[str, Any]:
    """``client_id``, ``scopes``, ``expires_at``, ``subject`` (the user), ``resource`` (this URL
    when ``aud`` names it) and ``claims`` with ``iss``: the SDK binds a session to
    ``(client_id, iss, subject)``, so another user's token cannot continue it."""
    claims: dict[str, Any] = dict(auth.claims or {})
    claims["iss"] = resource.issuer
    claims["sub"] = auth.user_id
    return {
        "token": token,
        "client_id": auth.client_id,
        "scopes": list(auth.scopes),
        "expires_at": int(auth.expiration.timestamp()) if auth.expiration else None,
        "resource": resource.matching_audience(auth),
        "subject": auth.user_id,
        "claims": claims,
    }


def checked_resource(resource: object, adapter: str) -> MCPResource:
    if not isinstance(resource, MCPResource):
        raise TypeError(f"{adapter} needs a clerk_fastapi.mcp.MCPResource")
    return resource


async def verified_fields(resource: MCPResource, token: str) -> dict[str, Any] | None:
    """The ``AccessToken`` fields of a valid OAuth token for ``resource``; ``None`` (401) for
    any other token; raises ``UpstreamError`` when Clerk cannot answer now. Behind
    ``resource.protect()`` the token it verified for this request is not verified again."""
    guarded = _GUARDED.get()
    if guarded is not None and guarded[0] is resource and guarded[1] == token:
        return dict(guarded[2])
    auth = await resource.authenticate(token)
    return None if auth is None else access_token_fields(resource, token, auth)
