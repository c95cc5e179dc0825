"""OpenAPI security schemes: one per token type, documented from the type's ``TokenKind``."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from pydantic import BaseModel

from clerk_fastapi.auth.accepts import Accepts
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


ANY_SCHEME = "ClerkAnyToken"
TOKEN_TYPES_EXTENSION = "x-clerk-token-types"


def auth_scheme(accepts: Accepts, names: Mapping[str, str]) -> tuple[str, HTTPBearerModel]:
    """The scheme name and model an ``Auth`` shows FastAPI: its token type's own scheme, or
    for several types a placeholder the finished document replaces with one alternative each."""
    ordered = accepts.ordered()
    if len(ordered) == 1 and not accepts.any:
        kind = kind_for(ordered[0])
        name = names.get(kind.name) or kind.scheme_name
        return name, HTTPBearerModel.model_validate(scheme_document(kind))
    scheme_names = [names.get(t) or kind_for(t).scheme_name for t in ordered]
    name = ANY_SCHEME if accepts.any else "_or_".join(scheme_names)
    document = {
        "type": "http",
        "scheme": "bearer",
        "description": "Any of: " + ", ".join(f"`{t}`" for t in ordered) + ".",
        TOKEN_TYPES_EXTENSION: list(ordered),
    }
    return name, HTTPBearerModel.model_validate(document)
