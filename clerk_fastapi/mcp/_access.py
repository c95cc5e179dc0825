"""What both MCP adapters share: a token verified for the resource, as the fields of an MCP
``AccessToken``."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.auth.client import client_address
from clerk_fastapi.auth.credentials import Connection
from clerk_fastapi.mcp.handover import access_token_fields, guarded_fields
from clerk_fastapi.mcp.resource import MCPResource


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
    counts against ``conn``'s client, as on a route. Behind ``resource.protect()`` the token it
    verified for this request is not verified again."""
    guarded = guarded_fields(resource, token)
    if guarded is not None:
        return guarded
    auth = await resource.authenticate(token, client=connection_client(resource, conn))
    if auth is None:
        return None
    return access_token_fields(
        token, auth, issuer=resource.issuer, resource=resource.matching_audience(auth)
    )
