"""What both MCP adapters share: a token verified for the resource, as the fields of an MCP
``AccessToken``."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.mcp.resource import MCPResource
from clerk_fastapi.principals import OAuthAuth


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
    any other token; raises ``UpstreamError`` when Clerk cannot answer now."""
    auth = await resource.authenticate(token)
    return None if auth is None else access_token_fields(resource, token, auth)
