"""The official MCP SDK (``mcp`` >= 2.3, extra ``clerk-fastapi[mcp]``): a ``TokenVerifier`` backed
by an ``MCPResource``, and the matching ``AuthSettings``.

```python
mcp = MCPServer("x", token_verifier=ClerkTokenVerifier(resource), auth=auth_settings(resource))
```
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from starlette.requests import HTTPConnection

from clerk_fastapi.mcp._access import checked_resource, verified_fields
from clerk_fastapi.mcp.resource import MCPResource


class ClerkTokenVerifier:
    """The SDK's ``TokenVerifier`` protocol, verifying Clerk OAuth tokens for ``resource``.

    Returns ``None`` (the SDK answers 401) for a token that is not a valid OAuth token for this
    resource: another type, another audience, expired, revoked, unknown. When Clerk cannot
    answer now it raises ``UpstreamError`` instead: ``None`` would make the client throw away a
    token that may be valid (the SDK turns the exception into a 500).
    """

    def __init__(self, resource: MCPResource) -> None:
        resource = checked_resource(resource, "ClerkTokenVerifier")
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        fields = await verified_fields(self.resource, token, _calling_connection())
        return None if fields is None else AccessToken(**fields)


_AUTHENTICATE = BearerAuthBackend.authenticate.__code__


def _calling_connection() -> HTTPConnection | None:
    """The request whose token is being verified, for the per-client budget. The SDK hands a
    ``TokenVerifier`` only the token; its ``BearerAuthBackend.authenticate(conn)`` is our
    caller, and its ``conn`` is read (never changed). Anything else (a direct call, another SDK
    layout): ``None``, and the verification counts against the shared no-client bucket."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return None
        if frame.f_code is _AUTHENTICATE:
            conn = frame.f_locals.get("conn")
            return conn if isinstance(conn, HTTPConnection) else None
        frame = frame.f_back
    return None


def auth_settings(resource: MCPResource) -> AuthSettings:
    """``issuer_url`` = Clerk (a string: no trailing slash is added), ``resource_server_url`` =
    the resource's URL, ``required_scopes`` = its scopes. ``validate_token_resource`` is on
    whenever the resource requires an audience (the verifier checks it too, and fills
    ``AccessToken.resource`` with this URL when ``aud`` names it); with
    ``require_audience=False`` it is off: a token without ``aud`` has no resource to compare."""
    # Strings, not AnyHttpUrl: pydantic validates them (and adds no trailing slash here).
    urls: dict[str, Any] = {
        "issuer_url": resource.issuer,
        "resource_server_url": resource.url,
        "service_documentation_url": resource.resource_documentation,
    }
    return AuthSettings(
        **urls,
        required_scopes=list(resource.scopes) or None,
        validate_token_resource=resource.require_audience,
    )
