"""``MCPResource.protect(app)``: an ASGI wrapper that authenticates every request to a mounted
MCP app (official SDK or FastMCP) with the resource's rules before the framework sees it.

Why a wrapper: inside the frameworks a token verifier can only accept (a token) or refuse
(``None`` → their 401) or raise (their 500). Their challenges name no ``scope`` on 401 and one
scope at a time on 403, a Clerk outage becomes a 500 without ``Retry-After``, and a tool's own
refusal is a JSON-RPC error inside an HTTP 200, which no client steps up from. The wrapper
answers all of these itself, as the MCP authorization spec (2026-07-28) says:

- 401: ``resource_metadata`` and the ``scope`` the request needs (``error="invalid_token"`` when
  a token was sent);
- 403 ``insufficient_scope``: ``scope`` lists every scope the request needs (the resource's and,
  for ``tools/call``, the tool's), not only the missing ones, so the client steps up to a token
  that holds them all;
- 503 + ``Retry-After`` when Clerk cannot answer now; 400 for a malformed ``Authorization``.

The framework then gets the verified token as it expects it: ``scope["user"]`` is the SDK's
``AuthenticatedUser`` (FastMCP's ``get_access_token()`` reads it) and the SDK's auth context
holds it (the SDK's ``get_access_token()``), when the ``mcp`` package is installed. When the
framework also runs this package's own verifier (``ClerkTokenVerifier``/``clerk_remote_auth``),
that verifier reuses the wrapper's result: one verification per request.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.errors import Reason
from clerk_fastapi.fastapi_auth.errors import ClerkAuthError, error_for_state, insufficient_scope
from clerk_fastapi.kinds import OAUTH_TOKEN
from clerk_fastapi.mcp.handover import access_token_fields, verified_by_guard
from clerk_fastapi.principals import OAuthAuth

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from clerk_fastapi.clerk import Clerk

logger = logging.getLogger("clerk_fastapi")


class GuardedResource(Protocol):
    """What the guard uses of an ``MCPResource`` (``resource`` imports this module)."""

    clerk: Clerk
    url: str
    issuer: str
    metadata_url: str
    scopes: tuple[str, ...]

    @property
    def tool_scopes(self) -> Mapping[str, tuple[str, ...]]: ...

    @property
    def scopes_supported(self) -> tuple[str, ...]: ...

    def scopes_for(self, tools: Iterable[str] = ()) -> tuple[str, ...]: ...

    def audience_refusal(self, principal: OAuthAuth) -> tuple[str, str] | None: ...

    def matching_audience(self, principal: OAuthAuth) -> str | None: ...


class ProtectedMCPApp:
    """The ASGI app ``MCPResource.protect(app)`` returns. Only HTTP requests are guarded;
    ``OPTIONS`` (CORS preflight) and ``/.well-known/`` paths (the frameworks' metadata routes)
    pass untouched, as do lifespan events."""

    def __init__(self, resource: GuardedResource, app: ASGIApp, *, max_body_size: int) -> None:
        if not isinstance(max_body_size, int) or max_body_size < 1:
            raise ValueError("max_body_size must be a positive number of bytes")
        self.resource = resource
        self.app = app
        self.max_body_size = max_body_size

    def __getattr__(self, name: str) -> Any:
        # The wrapped app's attributes (a FastMCP app's ``lifespan``, a Starlette ``state``).
        if name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        if kind != "http" or scope.get("method") == "OPTIONS" or _metadata_path(scope):
            await self.app(scope, receive, send)
            return
        resource = self.resource
        tools: list[str] = []
        body: bytes | None = None
        if resource.tool_scopes and scope.get("method") == "POST":
            body = await _read_body(receive, self.max_body_size)
            if body is None:
                await _send(send, _too_large())
                return
            tools = called_tools(body)
        needed = resource.scopes_for(tools)
        conn = HTTPConnection(scope)
        state = await resource.clerk.authenticate_request(conn, OAUTH_TOKEN)
        principal = state.to_auth()
        if isinstance(principal, OAuthAuth):
            refused = resource.audience_refusal(principal)
            if refused is not None:
                principal = None
                state = _refused(state, *refused)
        elif principal is not None:
            principal = None
            state = _refused(state, Reason.TOKEN_TYPE_MISMATCH, "Not an OAuth access token.")
        if principal is None:
            error = error_for_state(
                state,
                resource_metadata=resource.metadata_url,
                retry_after_default=resource.clerk.settings.retry_after_default,
                scope=needed or resource.scopes_supported,
            )
            self._log(conn, error, state, tools)
            await _send(send, error)
            return
        missing = [name for name in needed if name not in principal.scopes]
        if missing:
            error = insufficient_scope(needed, resource_metadata=resource.metadata_url)
            self._log(conn, error, state, tools, missing=missing)
            await _send(send, error)
            return
        token = _bearer(conn)
        fields = _fields(resource, token, principal)
        _hand_over(scope, fields)
        with verified_by_guard(resource, token, fields), _sdk_context(scope):
            await self.app(scope, _replay(body, receive) if body is not None else receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """MCP speaks no WebSocket, but a wrapped app that does gets the same rules (the
        resource's scopes): a refused connection is closed with 1008 before it is accepted."""
        conn = HTTPConnection(scope)
        state = await self.resource.clerk.authenticate_request(conn, OAUTH_TOKEN)
        principal = state.to_auth()
        if (
            isinstance(principal, OAuthAuth)
            and self.resource.audience_refusal(principal) is None
            and all(name in principal.scopes for name in self.resource.scopes)
        ):
            token = _bearer(conn)
            fields = _fields(self.resource, token, principal)
            _hand_over(scope, fields)
            with verified_by_guard(self.resource, token, fields), _sdk_context(scope):
                await self.app(scope, receive, send)
            return
        logger.info(
            "MCP WebSocket refused: reason=%s token=%s resource=%s",
            state.reason or "refused",
            state.fingerprint or "-",
            self.resource.url,
        )
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})

    def _log(
        self,
        conn: HTTPConnection,
        error: ClerkAuthError,
        state: RequestState,
        tools: list[str],
        *,
        missing: list[str] | None = None,
    ) -> None:
        client = conn.client.host if conn.client else "-"
        logger.info(
            "MCP request refused: status=%s reason=%s tools=%s missing=%s token=%s client=%s "
            "resource=%s",
            error.status_code,
            error.reason,
            ",".join(tools) or "-",
            " ".join(missing) if missing else "-",
            state.fingerprint or "-",
            client,
            self.resource.url,
        )


def called_tools(body: bytes) -> list[str]:
    """The tool names of the ``tools/call`` requests in a JSON-RPC body (a message or a batch);
    nothing for anything else (the framework answers a malformed body itself)."""
    try:
        message = json.loads(body)
    except ValueError:
        return []
    messages = message if isinstance(message, list) else [message]
    names: list[str] = []
    for item in messages:
        if not isinstance(item, dict) or item.get("method") != "tools/call":
            continue
        params = item.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if isinstance(name, str):
            names.append(name)
    return names


def _fields(resource: GuardedResource, token: str, principal: OAuthAuth) -> dict[str, Any]:
    return access_token_fields(
        token, principal, issuer=resource.issuer, resource=resource.matching_audience(principal)
    )


def _metadata_path(scope: Scope) -> bool:
    """A ``/.well-known/`` route of the wrapped app itself (relative to where it is mounted):
    the frameworks' metadata routes are public."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith("/.well-known/")


def _refused(state: RequestState, reason: str, message: str) -> RequestState:
    return dataclasses.replace(
        state, status="signed-out", auth=None, reason=reason, message=message, error="invalid_token"
    )


def _bearer(conn: HTTPConnection) -> str:
    # Verified as an OAuth bearer token just now: the header is well formed.
    return conn.headers.get("authorization", "").partition(" ")[2].strip()


def _too_large() -> ClerkAuthError:
    return ClerkAuthError(
        413,
        "invalid_request",
        "request-too-large",
        "The request body is larger than this MCP server reads.",
        {},
    )


async def _send(send: Send, error: ClerkAuthError) -> None:
    response = JSONResponse(
        {"detail": error.detail}, status_code=error.status_code, headers=error.headers
    )
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - a JSONResponse never receives
    return {"type": "http.disconnect"}


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` when it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the framework the body read here, then the real channel (for
    ``http.disconnect``)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _hand_over(scope: MutableMapping[str, Any], fields: dict[str, Any]) -> None:
    """``scope["user"]``/``scope["auth"]`` as the SDK's bearer middleware sets them."""
    try:
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
        from mcp.server.auth.provider import AccessToken
    except ImportError:  # pragma: no cover - the guard needs no MCP package to answer
        return
    from starlette.authentication import AuthCredentials

    scope["user"] = AuthenticatedUser(AccessToken(**fields))
    scope["auth"] = AuthCredentials(list(fields["scopes"]))


@contextmanager
def _sdk_context(scope: MutableMapping[str, Any]) -> Iterator[None]:
    """The SDK's ``get_access_token()`` reads a context variable its own middleware sets; set
    it here too, for apps built without the framework's auth."""
    try:
        from mcp.server.auth.middleware.auth_context import auth_context_var
    except ImportError:  # pragma: no cover
        yield
        return
    user = scope.get("user")
    if user is None:  # pragma: no cover
        yield
        return
    token = auth_context_var.set(user)
    try:
        yield
    finally:
        auth_context_var.reset(token)
