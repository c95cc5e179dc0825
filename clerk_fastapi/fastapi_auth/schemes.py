"""One OpenAPI security scheme per token type."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

DEFAULT_SCHEME_NAMES: Mapping[str, str] = {
    "session_token": "ClerkSession",
    "oauth_token": "ClerkOAuth",
    "m2m_token": "ClerkM2M",
    "api_key": "ClerkAPIKey",
}
SCHEME_FORMATS: Mapping[str, str] = {
    "session_token": "JWT",
    "oauth_token": "oat_... or JWT",
    "m2m_token": "mt_... or JWT",
    "api_key": "ak_...",
}
SCHEME_DESCRIPTIONS: Mapping[str, str] = {
    "session_token": (
        "A Clerk session token: the short-lived RS256 JWT your frontend gets from "
        "`getToken()`, sent as `Authorization: Bearer <token>`."
    ),
    "oauth_token": (
        "An OAuth access token that Clerk issued to a third-party app a user authorised: "
        "opaque `oat_...` or a JWT with `typ: at+jwt`. Scopes listed per operation are required."
    ),
    "m2m_token": (
        "A machine-to-machine token from another of your services: opaque `mt_...` or a JWT "
        "whose `sub` is the calling machine (`mch_...`)."
    ),
    "api_key": (
        "An API key a user or organisation created in Clerk (`ak_...`). "
        "Scopes listed per operation are required."
    ),
}
COOKIE_NOTE = " Browsers may send it in the `__session` cookie instead."
# Types whose tokens carry scopes; the others get no scopes in an operation's `security`.
SCOPED_TYPES = frozenset({"oauth_token", "m2m_token", "api_key"})
TOKEN_TYPE_EXTENSION = "x-clerk-token-type"


class ClerkTokenScheme(SecurityBase):
    """Documents one token type; the ``Auth`` dependency does the verification."""

    def __init__(self, token_type: str, scheme_name: str) -> None:
        self.token_type = token_type
        self.scheme_name = scheme_name
        description = SCHEME_DESCRIPTIONS.get(token_type, f"A `{token_type}` bearer token.")
        self.model = HTTPBearerModel.model_validate(
            {
                "bearerFormat": SCHEME_FORMATS.get(token_type, token_type),
                "description": description,
                TOKEN_TYPE_EXTENSION: token_type,
            }
        )

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"ClerkTokenScheme({self.token_type!r}, {self.scheme_name!r})"
