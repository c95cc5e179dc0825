"""What ``clerk.m2m``, ``clerk.api_keys`` and ``clerk.oauth_tokens`` share.

Paths carry no ``/v1`` (Clerk's "bapi-proxy" endpoints; the version travels in the
``Clerk-API-Version`` header). Every call uses the ``Clerk``'s pooled client and deadlines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.resources import Page, _Resource
from clerk_fastapi.errors import ClerkAPIError, ConfigurationError, Reason, TokenVerificationError
from clerk_fastapi.jose.claims import to_millis
from clerk_fastapi.settings import ClerkSettings

R = TypeVar("R", bound=_Resource)
# Verifies a JWT locally as one token type; returns nothing, raises TokenVerificationError.
LocalVerifier = Callable[[str, str], Awaitable[None]]
# Clerk's fromJwtPayload drops these from ``claims``; ``aud`` and ``scopes`` stay (custom claims).
RESERVED_CLAIMS = frozenset({"iss", "sub", "exp", "nbf", "iat", "jti"})


def body(**values: Any) -> dict[str, Any]:
    """A JSON body without the parameters the caller left out."""
    return {key: value for key, value in values.items() if value is not None}


def query(**values: Any) -> dict[str, Any]:
    """Query parameters; booleans as Clerk spells them (``true``/``false``)."""
    params: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        params[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return params


def path_id(value: str) -> str:
    """An id placed in a URL path: refuse anything that could change the path."""
    if not isinstance(value, str) or not value or any(c in value for c in "/?#%\\ \t\r\n."):
        raise ValueError("not a valid Clerk id")
    return value


def _invalid_answer() -> ClerkAPIError:
    # A 2xx whose body is not the documented shape: as unusable as an error answer.
    return ClerkAPIError(200, [{"code": "invalid_response_body", "message": "Unexpected answer"}])


def resource(model: type[R], data: Any) -> R:
    if not isinstance(data, dict):
        raise _invalid_answer()
    try:
        return model.model_validate(data)
    except ValidationError:
        raise _invalid_answer() from None


def page(model: type[R], data: Any, key: str) -> Page[R]:
    """A list answer: ``{key: [...], "total_count": N}``."""
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _invalid_answer()
    total = data.get("total_count", len(items))
    if not isinstance(total, int) or isinstance(total, bool):
        raise _invalid_answer()
    return Page[model](  # type: ignore[valid-type]
        data=[resource(model, item) for item in items], total_count=total
    )


def active(data: Any, not_found: str) -> Any:
    """Refuse a 200 that says the token is not valid (``revoked``, ``expired``, ``active: false``).

    Clerk answers 404 for such tokens; its JS SDK trusts any 200, we do not.
    """
    if isinstance(data, dict) and (
        data.get("active") is False or data.get("revoked") is True or data.get("expired") is True
    ):
        raise TokenVerificationError(Reason.TOKEN_INVALID, not_found)
    return data


def jwt_times(payload: dict[str, Any]) -> dict[str, Any]:
    """Clerk's ``fromJwtPayload`` timestamps: milliseconds; created = updated = ``iat``."""
    iat = to_millis(payload.get("iat"))
    return {"expiration": to_millis(payload.get("exp")), "created_at": iat, "updated_at": iat}


def string(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    return value if isinstance(value, str) else ""


class BackendAPI:
    """One group of Backend API calls over the ``Clerk``'s HTTP client."""

    def __init__(self, http: BackendHTTP, settings: ClerkSettings, verify_jwt: LocalVerifier):
        self._http = http
        self._settings = settings
        self._verify_jwt = verify_jwt

    def _secret(self) -> str:
        secret = self._settings.secret()
        if secret is None:
            raise ConfigurationError("This call needs CLERK_SECRET_KEY.")
        return secret

    async def _verify_call(self, path: str, secret: str | None, json: Any, not_found: str) -> Any:
        """POST a verify endpoint: 404 (and a 200 saying "not valid") become
        ``TokenVerificationError``; any other error answer stays a ``ClerkAPIError``."""
        try:
            data = await self._http.request("POST", path, secret=secret, json=json)
        except ClerkAPIError as exc:
            if exc.status == 404:
                raise TokenVerificationError(Reason.TOKEN_INVALID, not_found) from None
            raise
        return active(data, not_found)
