"""``MCPResource``: the app as an OAuth protected resource (RFC 9728) whose authorization server
is the Clerk instance. No import of the ``mcp`` SDK or FastMCP: the adapters live in ``sdk`` and
``fastmcp`` (extra ``clerk-fastapi[mcp]``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from clerk_fastapi.clerk import Clerk
from clerk_fastapi.errors import ConfigurationError, Reason, UpstreamError
from clerk_fastapi.fastapi_auth.dependency import Auth
from clerk_fastapi.kinds import OAUTH_TOKEN
from clerk_fastapi.mcp.audience import audience_contains, check_resource_url
from clerk_fastapi.principals import OAuthAuth

if TYPE_CHECKING:
    from fastapi import APIRouter
    from fastapi.security import SecurityScopes
    from pydantic import BaseModel
    from starlette.types import ASGIApp

    from clerk_fastapi.mcp.guard import ProtectedMCPApp

F = TypeVar("F", bound=Callable[..., Any])

WELL_KNOWN = "/.well-known/oauth-protected-resource"
# Clerk's ``TokenVerificationErrorReason.TokenInvalidAudience``.
AUDIENCE_MISMATCH = Reason.TOKEN_INVALID_AUDIENCE


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str) or not item or " " in item:
            raise ValueError(f"{what} must be scope names without spaces, got {item!r}")
    return tuple(dict.fromkeys(items))


class MCPResource:
    """An MCP server (or any OAuth-protected API) reached at ``url``, protected by Clerk.

    ``url`` is the canonical resource URI: the metadata's ``resource``, and the audience every
    OAuth token must carry (``require_audience=False`` tolerates a token with no ``aud``: Clerk
    sets one only when the client sent ``resource``; a token for another resource is always
    refused). ``scopes`` are required on every call. ``tool_scopes`` maps a tool name to the
    scopes a ``tools/call`` of it needs on top of ``scopes`` (checked by ``protect()``; see also
    ``requires_scopes``). ``scopes_supported`` (default: ``scopes`` and every tool's) is
    advertised. ``authorization_server`` defaults to ``CLERK_ISSUER``, else the Frontend API
    of the publishable key (``https://<frontend-api>``, no trailing slash).
    """

    def __init__(
        self,
        clerk: Clerk,
        *,
        url: str,
        scopes: str | Iterable[str] = (),
        scopes_supported: str | Iterable[str] | None = None,
        tool_scopes: Mapping[str, str | Iterable[str]] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        authorization_server: str | None = None,
        require_audience: bool = True,
    ) -> None:
        if not isinstance(clerk, Clerk):
            raise TypeError("clerk must be a clerk_fastapi.Clerk")
        self.clerk = clerk
        self.url = check_resource_url(url)
        self.scopes = _names(scopes, "scopes")
        self._scopes_supported = (
            None if scopes_supported is None else _names(scopes_supported, "scopes")
        )
        self.tool_scopes: dict[str, tuple[str, ...]] = {}
        for tool, needed in (tool_scopes or {}).items():
            self.require_tool_scopes(tool, needed)
        self.resource_name = resource_name
        self.resource_documentation = resource_documentation
        if not isinstance(require_audience, bool):
            raise TypeError("require_audience must be True or False")
        self.require_audience = require_audience
        self.issuer = authorization_server or self._default_issuer()
        check_resource_url(self.issuer)
        parts = urlsplit(self.url)
        # RFC 9728 §3.1: the well-known segment goes between the host and the path.
        self.metadata_path = WELL_KNOWN + parts.path.rstrip("/")
        self.metadata_url = f"{parts.scheme}://{parts.netloc}{self.metadata_path}"

    @property
    def scopes_supported(self) -> tuple[str, ...]:
        """The scopes clients are told to request: ``scopes_supported`` when given, else the
        resource's ``scopes`` and every tool's (so a client that registers with these can call
        every tool after consent)."""
        if self._scopes_supported is not None:
            return self._scopes_supported
        every = [*self.scopes, *(s for needed in self.tool_scopes.values() for s in needed)]
        return tuple(dict.fromkeys(every))

    # -- per-tool scopes ------------------------------------------------------------------------

    def require_tool_scopes(self, tool: str, scopes: str | Iterable[str]) -> None:
        """A ``tools/call`` of ``tool`` needs ``scopes`` on top of the resource's ``scopes``."""
        if not isinstance(tool, str) or not tool:
            raise ValueError(f"tool must be a tool name, got {tool!r}")
        needed = _names(scopes, "scopes")
        if not needed:
            raise ValueError(f"tool {tool!r}: give at least one scope")
        self.tool_scopes[tool] = needed

    def requires_scopes(self, *scopes: str, tool: str | None = None) -> Callable[[F], F]:
        """Decorator: the tool defined by the function (its name, or ``tool=``) needs
        ``scopes``. Put it under the framework's ``@mcp.tool`` decorator; the function is
        returned unchanged."""

        def register(function: F) -> F:
            self.require_tool_scopes(tool or function.__name__, scopes)
            return function

        return register

    def scopes_for(self, tools: Iterable[str] = ()) -> tuple[str, ...]:
        """Every scope a request calling ``tools`` needs: the resource's, then each tool's."""
        every = [*self.scopes, *(s for t in tools for s in self.tool_scopes.get(t, ()))]
        return tuple(dict.fromkeys(every))

    def _default_issuer(self) -> str:
        settings = self.clerk.settings
        if settings.issuer:
            return settings.issuer
        if settings.frontend_api:
            return f"https://{settings.frontend_api}"
        raise ConfigurationError(
            "MCPResource needs the Clerk instance's authorization server: set "
            "CLERK_PUBLISHABLE_KEY (or CLERK_ISSUER), or pass authorization_server="
        )

    # -- metadata -------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 Protected Resource Metadata document."""
        document: dict[str, Any] = {
            "resource": self.url,
            "authorization_servers": [self.issuer],
            "bearer_methods_supported": ["header"],
        }
        if self.scopes_supported:
            document["scopes_supported"] = list(self.scopes_supported)
        if self.resource_name:
            document["resource_name"] = self.resource_name
        if self.resource_documentation:
            document["resource_documentation"] = self.resource_documentation
        return document

    def metadata_router(self, *, root: bool = False) -> APIRouter:
        """A FastAPI router serving ``metadata()`` at ``metadata_path`` (and at the root
        ``/.well-known/oauth-protected-resource`` with ``root=True``): GET, HEAD and OPTIONS,
        CORS open to any origin, cacheable for an hour."""
        from clerk_fastapi.mcp.router import metadata_router

        paths = [self.metadata_path]
        if root and WELL_KNOWN not in paths:
            paths.append(WELL_KNOWN)
        return metadata_router(self.metadata, paths)

    # -- verification ---------------------------------------------------------------------------

    def audience_refusal(self, principal: OAuthAuth) -> tuple[str, str] | None:
        """``(reason, message)`` when the token was not issued for this resource."""
        if principal.aud:
            if audience_contains(principal.aud, self.url):
                return None
            return AUDIENCE_MISMATCH, "The token was issued for another resource."
        if self.require_audience:
            return AUDIENCE_MISMATCH, "The token names no audience (resource)."
        return None

    def auth(self, **options: Any) -> Auth:
        """``Auth(accepts="oauth_token", scopes=...)`` for this resource: its 401 and 403 point at
        this resource's metadata and name the scopes, and a foreign ``aud`` gets 401."""
        return ResourceAuth(self, **options)

    async def authenticate(self, token: str, *, client: str | None = None) -> OAuthAuth | None:
        """Verify a bearer token for this resource (for the MCP framework adapters).

        ``None``: not a valid OAuth token for this resource (any reason; scopes are not checked
        here). Raises ``UpstreamError`` when Clerk cannot answer now: the token may be valid.
        ``client``: the request's client address, for the per-client budget.
        """
        state = await self.clerk.authenticate_token(token, OAUTH_TOKEN, client=client)
        if state.error == "unavailable":
            raise UpstreamError(
                state.reason or Reason.UNEXPECTED_ERROR,
                "Clerk could not verify the access token now "
                f"({state.reason}); the token may be valid, retry later.",
                retry_after=state.retry_after,
            )
        principal = state.to_auth()
        if not isinstance(principal, OAuthAuth) or self.audience_refusal(principal):
            return None
        return principal

    def protect(self, app: ASGIApp, *, max_body_size: int = 4 * 1024 * 1024) -> ProtectedMCPApp:
        """Wrap a mounted MCP app (official SDK or FastMCP): every request to it is
        authenticated with this resource's rules before the framework sees it, and refused with
        this package's answers (see ``clerk_fastapi.mcp.guard``)."""
        from clerk_fastapi.mcp.guard import ProtectedMCPApp

        return ProtectedMCPApp(self, app, max_body_size=max_body_size)

    def matching_audience(self, principal: OAuthAuth) -> str | None:
        """This resource's URL when the token's ``aud`` names it (the SDK's
        ``AccessToken.resource``), else ``None``."""
        return self.url if audience_contains(principal.aud, self.url) else None

    def __repr__(self) -> str:
        return f"MCPResource(url={self.url!r}, scopes={list(self.scopes)!r})"


class ResourceAuth(Auth):
    """The ``Auth`` of one ``MCPResource``."""

    def __init__(self, resource: MCPResource, **options: Any) -> None:
        for name in ("accepts", "resource_metadata", "clerk"):
            if name in options:
                raise TypeError(f"MCPResource.auth() sets {name} itself")
        extra: Sequence[str] | str = options.pop("scopes", ())
        scopes = [*resource.scopes, *_names(extra, "scopes")]
        super().__init__(
            OAUTH_TOKEN,
            scopes=scopes,
            clerk=resource.clerk,
            resource_metadata=resource.metadata_url,
            **options,
        )
        self.resource = resource

    def _scopes_for(self, security_scopes: SecurityScopes) -> list[str]:
        # The 401 names the scopes to request: the route's, else what the resource advertises
        # (a client that asks Clerk for nothing, or for ``openid``, is refused: the scope trap).
        return super()._scopes_for(security_scopes) or list(self.resource.scopes_supported)

    def missing(self, principal: BaseModel, extra_scopes: Sequence[str] = ()) -> list[str]:
        """When a scope is missing, every scope the route needs: the MCP spec's 403
        ``insufficient_scope`` names them all, so the client steps up to a token holding all."""
        if not super().missing(principal, extra_scopes):
            return []
        return list(dict.fromkeys([*self.scopes, *extra_scopes]))

    def refuse(self, principal: Any) -> tuple[str, str] | None:
        if not isinstance(principal, OAuthAuth):
            return Reason.TOKEN_TYPE_MISMATCH, "Not an OAuth access token."
        return self.resource.audience_refusal(principal)
