"""``clerk.m2m``, ``clerk.api_keys``, ``clerk.oauth_tokens``: the machine-auth Backend API.

Paths carry no ``/v1`` (Clerk's "bapi-proxy" endpoints; the version travels in the
``Clerk-API-Version`` header). Every call uses the ``Clerk``'s pooled client and deadlines and
raises ``ClerkAPIError`` (Clerk answered non-2xx) or ``ClerkNetworkError`` (no answer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.resources import APIKey, M2MToken, OAuthAccessToken, Page, _Resource
from clerk_fastapi.errors import ConfigurationError, Reason, TokenVerificationError
from clerk_fastapi.jose.claims import to_millis
from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.tokens import classify

R = TypeVar("R", bound=_Resource)
# Verifies a JWT locally for one token type; returns nothing, raises TokenVerificationError.
LocalVerifier = Callable[[str, str], Awaitable[None]]
_RESERVED = frozenset({"iss", "sub", "exp", "nbf", "iat", "jti"})


def _body(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _params(**values: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        params[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return params


def _page(model: type[R], data: Any, key: str) -> Page[R]:
    if not isinstance(data, dict):
        raise ValueError("Clerk's list answer is not an object")
    items = [model.model_validate(item) for item in data.get(key) or []]
    return Page[model](data=items, total_count=int(data.get("total_count", len(items))))  # type: ignore[valid-type]


class _Client:
    def __init__(self, http: BackendHTTP, settings: ClerkSettings, verify_jwt: LocalVerifier):
        self._http = http
        self._settings = settings
        self._verify_jwt = verify_jwt

    def _secret(self) -> str:
        secret = self._settings.secret()
        if secret is None:
            raise ConfigurationError("This call needs CLERK_SECRET_KEY.")
        return secret


class M2MTokens(_Client):
    """Machine-to-machine tokens. Calls authenticate with the per-call ``machine_secret_key``,
    else the configured machine secret key, else the instance secret key (Clerk's order)."""

    def _machine_secret(self, machine_secret_key: str | None) -> str | None:
        return machine_secret_key or self._settings.machine_secret()

    async def create(
        self,
        *,
        seconds_until_expiration: int | None = None,
        claims: dict[str, Any] | None = None,
        token_format: Literal["opaque", "jwt"] = "opaque",  # noqa: S107 (not a secret)
        min_remaining_ttl_seconds: int | None = None,
        machine_secret_key: str | None = None,
    ) -> M2MToken:
        """Create a token for the machine that owns the machine secret key; ``.token`` holds it."""
        body = {
            **_body(
                seconds_until_expiration=seconds_until_expiration,
                min_remaining_ttl_seconds=min_remaining_ttl_seconds,
            ),
            "claims": claims,
            "token_format": token_format,
        }
        data = await self._http.request(
            "POST", "/m2m_tokens", secret=self._machine_secret(machine_secret_key), json=body
        )
        return M2MToken.model_validate(data)

    async def revoke(
        self,
        m2m_token_id: str,
        *,
        revocation_reason: str | None = None,
        machine_secret_key: str | None = None,
    ) -> M2MToken:
        """Revoke an opaque token (JWT M2M tokens cannot be revoked: they live until ``exp``)."""
        data = await self._http.request(
            "POST",
            f"/m2m_tokens/{_path_id(m2m_token_id)}/revoke",
            secret=self._machine_secret(machine_secret_key),
            json=_body(revocation_reason=revocation_reason),
        )
        return M2MToken.model_validate(data)

    async def verify(self, token: str, *, machine_secret_key: str | None = None) -> M2MToken:
        """Verify an opaque token with Clerk, or an M2M JWT locally (no network call)."""
        credential = classify(token)
        if credential.jws is not None and credential.token_type == "m2m_token":
            await self._verify_jwt(token, "m2m_token")
            return m2m_token_from_jwt(token)
        data = await self._http.request(
            "POST",
            "/m2m_tokens/verify",
            secret=self._machine_secret(machine_secret_key),
            json={"token": token},
        )
        return M2MToken.model_validate(data)

    async def list(
        self,
        *,
        subject: str | None = None,
        revoked: bool | None = None,
        expired: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        machine_secret_key: str | None = None,
    ) -> Page[M2MToken]:
        params = _params(
            subject=subject, revoked=revoked, expired=expired, limit=limit, offset=offset
        )
        data = await self._http.request(
            "GET", "/m2m_tokens", secret=self._machine_secret(machine_secret_key), params=params
        )
        return _page(M2MToken, data, "m2m_tokens")


class APIKeys(_Client):
    """API keys that users or organisations hold."""

    async def create(
        self,
        *,
        name: str,
        subject: str,
        description: str | None = None,
        scopes: list[str] | None = None,
        claims: dict[str, Any] | None = None,
        seconds_until_expiration: int | None = None,
        created_by: str | None = None,
    ) -> APIKey:
        """Create a key; the returned ``.secret`` is shown only this once."""
        body = _body(
            name=name,
            subject=subject,
            description=description,
            scopes=scopes,
            claims=claims,
            seconds_until_expiration=seconds_until_expiration,
            created_by=created_by,
        )
        data = await self._http.request("POST", "/api_keys", secret=self._secret(), json=body)
        return APIKey.model_validate(data)

    async def revoke(self, api_key_id: str, *, revocation_reason: str | None = None) -> APIKey:
        data = await self._http.request(
            "POST",
            f"/api_keys/{_path_id(api_key_id)}/revoke",
            secret=self._secret(),
            json=_body(revocation_reason=revocation_reason),
        )
        return APIKey.model_validate(data)

    async def verify(self, secret: str) -> APIKey:
        data = await self._http.request(
            "POST", "/api_keys/verify", secret=self._secret(), json={"secret": secret}
        )
        return APIKey.model_validate(data)

    async def list(
        self,
        *,
        subject: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[APIKey]:
        params = _params(subject=subject, limit=limit, offset=offset)
        data = await self._http.request("GET", "/api_keys", secret=self._secret(), params=params)
        return _page(APIKey, data, "data")


class OAuthTokens(_Client):
    """OAuth access tokens that Clerk (as an OAuth provider) issued to third-party apps."""

    async def verify(self, access_token: str) -> OAuthAccessToken:
        """Verify an opaque ``oat_`` token with Clerk, or a JWT access token locally."""
        credential = classify(access_token)
        if credential.jws is not None and credential.token_type == "oauth_token":
            await self._verify_jwt(access_token, "oauth_token")
            return oauth_token_from_jwt(access_token)
        data = await self._http.request(
            "POST",
            "/oauth_applications/access_tokens/verify",
            secret=self._secret(),
            json={"access_token": access_token},
        )
        if isinstance(data, dict) and data.get("active") is False:
            raise TokenVerificationError(Reason.TOKEN_INVALID, "OAuth token not found")
        return OAuthAccessToken.model_validate(data)


def _path_id(value: str) -> str:
    if not value or any(c in value for c in "/?#% "):
        raise ValueError("not a valid Clerk id")
    return value


def _times(payload: dict[str, Any]) -> dict[str, Any]:
    iat = to_millis(payload.get("iat"))
    return {"expiration": to_millis(payload.get("exp")), "created_at": iat, "updated_at": iat}


def m2m_token_from_jwt(token: str) -> M2MToken:
    """Clerk's ``M2MToken.fromJwtPayload`` (call only after the JWT was verified)."""
    payload = parse_compact(token).payload
    raw_scopes = payload.get("scopes")
    aud = payload.get("aud")
    if isinstance(raw_scopes, str):
        scopes = raw_scopes.split(" ")
    elif isinstance(aud, list):
        scopes = [a for a in aud if isinstance(a, str)]
    else:
        scopes = []
    claims = {k: v for k, v in payload.items() if k not in _RESERVED} or None
    jti = payload.get("jti")
    return M2MToken(
        object="machine_to_machine_token",
        id=jti if isinstance(jti, str) else "",
        subject=payload["sub"],
        scopes=scopes,
        claims=claims,
        revoked=False,
        expired=False,
        **_times(payload),
    )


def oauth_token_from_jwt(token: str) -> OAuthAccessToken:
    """Clerk's ``IdPOAuthAccessToken.fromJwtPayload`` (after verification)."""
    payload = parse_compact(token).payload
    scp, scope = payload.get("scp"), payload.get("scope")
    if isinstance(scp, list):
        scopes = [s for s in scp if isinstance(s, str)]
    elif isinstance(scope, str):
        scopes = scope.split(" ")
    else:
        scopes = []
    jti, client_id = payload.get("jti"), payload.get("client_id")
    return OAuthAccessToken(
        object="clerk_idp_oauth_access_token",
        id=jti if isinstance(jti, str) else "",
        client_id=client_id if isinstance(client_id, str) else "",
        type="oauth_token",
        subject=payload["sub"],
        scopes=scopes,
        revoked=False,
        expired=False,
        **_times(payload),
    )
