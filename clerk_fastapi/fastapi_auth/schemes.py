"""One OpenAPI security scheme per token type, documented from the type's ``TokenKind``."""

from __future__ import annotations

from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from pydantic import BaseModel

from clerk_fastapi.kinds import BUILTIN_KINDS, TokenKind

BUILTIN = {kind.name: kind for kind in BUILTIN_KINDS}
COOKIE_NOTE = " Browsers may send it in the `__session` cookie instead."
TOKEN_TYPE_EXTENSION = "x-clerk-token-type"


def kind_for(token_type: str) -> TokenKind:
    """Clerk's own kind, or a placeholder a registered kind replaces when OpenAPI is finished."""
    kind = BUILTIN.get(token_type)
    if kind is None:
        kind = TokenKind(name=token_type, principal=BaseModel, prefixes=(f"{token_type}_",))
    return kind


def scheme_document(kind: TokenKind) -> dict[str, object]:
    return {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": kind.bearer_format,
        "description": kind.description,
        TOKEN_TYPE_EXTENSION: kind.name,
    }


class ClerkTokenScheme(SecurityBase):
    """Documents one token type; the ``Auth`` dependency does the verification."""

    def __init__(self, token_type: str, scheme_name: str | None = None) -> None:
        kind = kind_for(token_type)
        self.token_type = token_type
        self.scoped = kind.scoped
        self.scheme_name = scheme_name or kind.scheme_name
        self.model = HTTPBearerModel.model_validate(scheme_document(kind))

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"ClerkTokenScheme({self.token_type!r}, {self.scheme_name!r})"
