"""The fake's Frontend API as an OAuth authorization server: RFC 8414 metadata, the public JWKS,
dynamic client registration, an authorization-code + PKCE flow that consents at once as
``oauth_user_id``, token introspection (``/oauth/token_info``) and ``/oauth/userinfo``. Enough
for an MCP client's discovery and sign-in, and for verifiers that call Clerk's Frontend API per
token (FastMCP's ``ClerkTokenVerifier``), to run offline.

The issuer is ``fake.issuer``: serve the fake with ``fake.serve(frontend_api=True)`` so that it
is the loopback URL the fake answers on (metadata ``issuer`` must equal where it was fetched).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlencode

import jwt
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from clerk_fastapi.testing.fake._common import TEST_USER_ID
from clerk_fastapi.testing.fake.minting import Minting


@dataclass
class _Client:
    client_id: str
    secret: str | None
    redirect_uris: list[str]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    user_id: str
    scopes: list[str] = field(default_factory=list)
    resource: str | None = None


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class FrontendAPI(Minting):
    """Mixed into ``FakeClerk``: the OAuth authorization server half of a Clerk instance."""

    jwks: Callable[[], Any]
    # Who consents on /oauth/authorize, and the form of the access tokens /oauth/token issues.
    oauth_user_id: str
    oauth_token_format: Literal["jwt", "opaque"]

    def _init_frontend(self) -> None:
        self.oauth_user_id = TEST_USER_ID
        self.oauth_token_format = "jwt"
        self._clients: dict[str, _Client] = {}
        self._grants: dict[str, _Grant] = {}

    def authorization_server_metadata(self) -> dict[str, Any]:
        """What Clerk's ``/.well-known/oauth-authorization-server`` says (the fields MCP uses)."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "registration_endpoint": f"{base}/oauth/register",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }

    def _frontend_routes(
        self, endpoint: Callable[[str, Callable[[Request, Any], Any]], Callable[[Request], Any]]
    ) -> list[Route]:
        return [
            Route(
                "/.well-known/oauth-authorization-server",
                endpoint("as_metadata", self._as_metadata),
                methods=["GET"],
            ),
            Route(
                "/.well-known/jwks.json",
                endpoint("fapi_jwks", self._public_jwks),
                methods=["GET"],
            ),
            Route("/oauth/register", endpoint("oauth_register", self._register), methods=["POST"]),
            Route(
                "/oauth/authorize", endpoint("oauth_authorize", self._authorize), methods=["GET"]
            ),
            Route("/oauth/token", endpoint("oauth_token", self._token), methods=["POST"]),
            Route(
                "/oauth/token_info",
                endpoint("oauth_token_info", self._token_info),
                methods=["POST"],
            ),
            Route(
                "/oauth/userinfo",
                endpoint("oauth_userinfo", self._userinfo),
                methods=["GET", "POST"],
            ),
        ]

    def register_oauth_client(
        self, redirect_uris: list[str] | None = None, *, public: bool = False
    ) -> tuple[str, str | None]:
        """An OAuth application of the instance, as the dashboard creates one:
        ``(client_id, client_secret)`` (no secret for a public client)."""
        client = _Client(
            client_id=secrets.token_urlsafe(12),
            secret=None if public else secrets.token_urlsafe(24),
            redirect_uris=list(redirect_uris or []),
        )
        self._clients[client.client_id] = client
        return client.client_id, client.secret

    def _introspect(self, token: str) -> dict[str, Any] | None:
        """RFC 7662 fields of a live OAuth access token this fake issued, else ``None``."""
        if token.startswith("oat_"):
            record = self._store.get(token)
            if record is None or record.kind != "oauth_token" or record.revoked:
                return None
            resource = record.resource
            exp = int(resource["expiration"]) // 1000
            if exp <= self._now():
                return None
            answer = {
                "client_id": resource["client_id"],
                "sub": resource["subject"],
                "scope": " ".join(resource.get("scopes", [])),
                "exp": exp,
                "iat": int(resource["created_at"]) // 1000,
            }
            if resource.get("aud"):
                answer["aud"] = resource["aud"]
            return answer
        try:
            header = jwt.get_unverified_header(token)
            keys = jwt.PyJWKSet.from_dict(self.jwks())
            key = next(k for k in keys.keys if k.key_id == header.get("kid"))
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                # Times against the fake's clock, below.
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except (jwt.PyJWTError, StopIteration, ValueError):
            return None
        if header.get("typ") not in ("at+jwt", "application/at+jwt"):
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self._now():
            return None
        answer = {k: claims[k] for k in ("client_id", "sub", "scope", "exp", "iat") if k in claims}
        if "aud" in claims:
            answer["aud"] = claims["aud"]
        return answer

    async def _token_info(self, request: Request, body: Any) -> Response:
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        client_id, secret = _client_credentials(request, data)
        client = self._clients.get(client_id or "")
        if client is None or (client.secret is not None and secret != client.secret):
            return _oauth_error("invalid_client", "client authentication failed", 401)
        answer = self._introspect(data.get("token", ""))
        if answer is None:
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "token_type": "access_token", **answer})

    async def _userinfo(self, request: Request, body: Any) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        answer = self._introspect(token)
        if answer is None:
            return _oauth_error("invalid_token", "the access token is not valid", 401)
        user = answer["sub"]
        return JSONResponse(
            {
                "sub": user,
                "user_id": user,
                "email": f"{user}@example.test",
                "email_verified": True,
                "name": "Test User",
                "given_name": "Test",
                "family_name": "User",
                "preferred_username": user,
            }
        )

    async def _as_metadata(self, request: Request, body: Any) -> Response:
        return JSONResponse(self.authorization_server_metadata())

    async def _public_jwks(self, request: Request, body: Any) -> Response:
        return JSONResponse(self.jwks())

    async def _register(self, request: Request, body: Any) -> Response:
        body = body if isinstance(body, dict) else {}
        uris = body.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            return _oauth_error("invalid_redirect_uri", "redirect_uris is required")
        method = body.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in ("client_secret_basic", "client_secret_post", "none"):
            return _oauth_error("invalid_client_metadata", "unsupported auth method")
        client = _Client(
            client_id=secrets.token_urlsafe(12),
            secret=None if method == "none" else secrets.token_urlsafe(24),
            redirect_uris=list(uris),
        )
        self._clients[client.client_id] = client
        answer = {
            **body,
            "client_id": client.client_id,
            "client_id_issued_at": self._now(),
            "token_endpoint_auth_method": method,
        }
        if client.secret is not None:
            answer.update(client_secret=client.secret, client_secret_expires_at=0)
        return JSONResponse(answer, status_code=201)

    async def _authorize(self, request: Request, body: Any) -> Response:
        params = request.query_params
        client = self._clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return _oauth_error("invalid_request", "unknown client or redirect_uri")
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256":
            return _oauth_error("invalid_request", "response_type=code with PKCE S256 only")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            challenge=params.get("code_challenge", ""),
            user_id=self.oauth_user_id,
            scopes=[s for s in params.get("scope", "").split(" ") if s],
            resource=params.get("resource") or None,
        )
        query = {"code": code, "iss": self.issuer}
        if "state" in params:
            query["state"] = params["state"]
        return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)

    async def _token(self, request: Request, body: Any) -> Response:
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        if data.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "authorization_code only")
        grant = self._grants.pop(data.get("code", ""), None)
        if grant is None:
            return _oauth_error("invalid_grant", "unknown or used code")
        client_id, secret = _client_credentials(request, data)
        client = self._clients.get(client_id or "")
        if client is None or client.client_id != grant.client_id:
            return _oauth_error("invalid_client", "client mismatch", 401)
        if client.secret is not None and secret != client.secret:
            return _oauth_error("invalid_client", "bad client secret", 401)
        verifier = data.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return _oauth_error("invalid_grant", "PKCE verification failed")
        if data.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri mismatch")
        resource = data.get("resource") or grant.resource
        token = self.oauth_token(
            self.oauth_token_format,
            scopes=grant.scopes,
            user_id=grant.user_id,
            client_id=client.client_id,
            aud=[resource] if resource else None,
        )
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": " ".join(grant.scopes),
            },
            headers={"Cache-Control": "no-store"},
        )


def _client_credentials(request: Request, data: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:]).decode()
        except ValueError:
            return None, None
        client_id, _, secret = raw.partition(":")
        return unquote(client_id), unquote(secret)
    return data.get("client_id"), data.get("client_secret")


# The Frontend API paths (the OAuth authorization server); ``FrontendGuard`` serves them only
# when asked, and only to the fake's own Host.
FRONTEND_PATHS = frozenset(
    {
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
        "/oauth/register",
        "/oauth/authorize",
        "/oauth/token",
    }
)


class FrontendGuard:
    """The fake as served on a port (``FakeClerk.serve``, ``serve`` in the CLI).

    Its ``/oauth/authorize`` consents at once, so on a shared machine any local process, or a
    web page through DNS rebinding, could get tokens from it. Its Frontend API paths answer 404
    unless the fake was served with ``frontend_api=True`` (``serve --frontend-api``), and then
    only to requests whose ``Host`` names the fake itself (421 otherwise).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hosts: frozenset[str] | None = None  # None: the Frontend API is not served

    def allow(self, url: str) -> None:
        """Serve the Frontend API to requests for ``url`` (``http://HOST:PORT``)."""
        netloc = url.split("://", 1)[-1].rstrip("/")
        port = netloc.rsplit(":", 1)[-1]
        self.hosts = frozenset({netloc.lower(), f"localhost:{port}"})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") in FRONTEND_PATHS:
            if self.hosts is None:
                response: Response = JSONResponse(
                    {
                        "error": "not_found",
                        "error_description": "Frontend API not served "
                        "(start the fake with --frontend-api / serve(frontend_api=True))",
                    },
                    status_code=404,
                )
                await response(scope, receive, send)
                return
            host = Headers(scope=scope).get("host", "").lower()
            if host not in self.hosts:
                response = JSONResponse(
                    {"error": "misdirected_request", "error_description": "unexpected Host"},
                    status_code=421,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
