"""The fake's Frontend API as an OAuth authorization server: RFC 8414 metadata, the public JWKS,
dynamic client registration, and an authorization-code + PKCE flow that consents at once as
``oauth_user_id``. Enough for an MCP client's discovery and sign-in to run offline.

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
        ]

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
