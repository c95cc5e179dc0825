"""What both MCP adapters share: a token verified for the resource, as the fields of an MCP
``AccessToken``."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.auth.client import client_address
from clerk_fastapi.auth.credentials import Connection
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


def connection_client(resource: MCPResource, conn: Connection | None) -> str | None:
    """Whom the per-client budget counts for ``conn`` (the same rule as a route's, trusted
    proxies included); ``None`` when the framework did not give the request away."""
    return None if conn is None else client_address(conn, resource.clerk.settings)


async def verified_fields(
    resource: MCPResource, token: str, conn: Connection | None = None
) -> dict[str, Any] | None:
    """The ``AccessToken`` fields of a valid OAuth token for ``resource``; ``None`` (401) for
    any other token; raises ``UpstreamError`` when Clerk cannot answer now. A Backend API call
    counts against ``conn``'s client, as on a route."""
    auth = await resource.authenticate(token, client=connection_client(resource, conn))
    return None if auth is None else access_token_fields(resource, token, auth)
