"""FastMCP (>= 4.1, extra ``clerk-fastapi[mcp]``): a FastMCP ``TokenVerifier`` and a
``RemoteAuthProvider`` built from an ``MCPResource``. Clerk stays the authorization server (no
OAuth proxy, no client secret, no introspection per call).

```python
mcp = FastMCP("x", auth=clerk_remote_auth(resource))
app.mount("/", mcp.http_app(path="/mcp"))   # the path of resource.url
```

For clients that cannot register with Clerk, ``clerk_provider(resource, client_id=...,
client_secret=...)`` is FastMCP's own ``ClerkProvider`` (its OAuth proxy flow unchanged) whose
upstream tokens are verified by this package: ``at+jwt`` locally, ``oat_`` through the Backend
API with its cache, the audience checked; instead of two Frontend API calls per request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastmcp.server.auth import AccessToken, RemoteAuthProvider, TokenVerifier
from fastmcp.server.auth.providers.clerk import ClerkProvider
from fastmcp.server.dependencies import get_http_request
from starlette.requests import HTTPConnection

from clerk_fastapi.mcp._access import checked_resource, verified_fields
from clerk_fastapi.mcp.resource import MCPResource


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ClerkFastMCPVerifier(TokenVerifier):
    """Verifies Clerk OAuth tokens for ``resource``; ``None`` means 401. When Clerk cannot
    answer now it raises ``UpstreamError`` rather than return ``None`` (which would make the
    client discard a token that may be valid)."""

    def __init__(self, resource: MCPResource) -> None:
        resource = checked_resource(resource, "ClerkFastMCPVerifier")
        super().__init__(base_url=_origin(resource.url), required_scopes=list(resource.scopes))
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        fields = await verified_fields(self.resource, token, _current_connection())
        return None if fields is None else AccessToken(**fields)


def _current_connection() -> HTTPConnection | None:
    """The request FastMCP is serving (its request context), for the per-client budget."""
    try:
        return get_http_request()
    except RuntimeError:
        return None  # no HTTP request: the shared no-client bucket


def clerk_remote_auth(resource: MCPResource) -> RemoteAuthProvider:
    """A ``RemoteAuthProvider``: FastMCP serves the metadata for ``resource`` (Clerk's issuer as
    a plain string, so no trailing slash) and its 401/403 challenges point at it."""
    # A plain str issuer: an AnyHttpUrl would be published with a trailing slash.
    urls: dict[str, Any] = {
        "authorization_servers": [resource.issuer],
        "resource_documentation": resource.resource_documentation,
    }
    return RemoteAuthProvider(
        token_verifier=ClerkFastMCPVerifier(resource),
        base_url=_origin(resource.url),
        scopes_supported=list(resource.scopes_supported) or None,
        resource_name=resource.resource_name,
        **urls,
    )


def clerk_provider(
    resource: MCPResource,
    *,
    client_id: str,
    client_secret: str | None = None,
    base_url: str | None = None,
    **options: Any,
) -> ClerkProvider:
    """FastMCP's ``ClerkProvider`` (an OAuth proxy in front of the Clerk OAuth application
    ``client_id``) for ``resource``, verifying the upstream Clerk tokens with this package
    instead of ``ClerkTokenVerifier`` (``/oauth/token_info`` + ``/oauth/userinfo`` on every
    request). ``domain`` comes from the resource's issuer, ``base_url`` defaults to the
    resource's origin and ``required_scopes`` to its scopes; ``options`` go to ``ClerkProvider``
    (``client_storage``, ``jwt_signing_key``, ...). ``forward_resource`` stays on, so Clerk binds
    the upstream token to the resource URL the MCP client sent and the audience check holds.
    """
    resource = checked_resource(resource, "clerk_provider")
    if "domain" in options or "required_scopes" in options:
        raise TypeError("clerk_provider() takes the domain and the scopes from the resource")
    if options.get("forward_resource") is False and resource.require_audience:
        raise ValueError(
            "forward_resource=False: Clerk would issue tokens without aud, which the resource "
            "refuses (require_audience=True)"
        )
    provider = ClerkProvider(
        domain=resource.issuer,
        client_id=client_id,
        client_secret=client_secret,
        base_url=base_url or _origin(resource.url),
        required_scopes=list(resource.scopes),
        **options,
    )
    verifier = ClerkFastMCPVerifier(resource)
    # ClerkProvider builds its ClerkTokenVerifier itself and takes no other; the OAuth proxy
    # calls the one it keeps here for every request (``OAuthProxy.load_access_token``).
    if not isinstance(getattr(provider, "_token_validator", None), TokenVerifier):
        raise RuntimeError("this FastMCP version's ClerkProvider has no verifier to replace")
    provider._token_validator = verifier
    return provider
