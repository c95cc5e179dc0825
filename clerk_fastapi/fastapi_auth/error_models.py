"""The error answers of ``Auth`` (``errors.py``) as OpenAPI documents them: the body model and,
per status, its ``WWW-Authenticate`` / ``Retry-After`` header and an example."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ClerkErrorDetail(BaseModel):
    error: Literal[
        "invalid_request",
        "missing_token",
        "invalid_token",
        "insufficient_scope",
        "temporarily_unavailable",
    ] = Field(description="The RFC 6750 error code (`missing_token` when nothing was sent).")
    reason: str = Field(description="The reason code Clerk's SDK reports for the same request.")
    message: str = Field(description="What failed, in plain words.")


class ClerkError(BaseModel):
    """The body of every 400, 401, 403 and 503 answer of a route protected by `Auth`."""

    detail: ClerkErrorDetail


_REF = "#/components/schemas/{model}"
_CHALLENGE = {
    "description": 'RFC 6750 challenge, e.g. `Bearer error="invalid_token", '
    'error_description="token-expired"`.',
    "schema": {"type": "string"},
}


def _answer(description: str, header: str, example: dict[str, str]) -> dict[str, Any]:
    headers = (
        {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
        if header == "Retry-After"
        else {"WWW-Authenticate": _CHALLENGE}
    )
    return {
        "description": description,
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {"$ref": _REF.format(model="ClerkError")},
                "example": {"detail": example},
            }
        },
    }


AUTH_ANSWERS: dict[str, dict[str, Any]] = {
    "400": _answer(
        "Malformed credentials (an empty bearer token, two tokens, two Authorization headers).",
        "WWW-Authenticate",
        {
            "error": "invalid_request",
            "reason": "token-invalid",
            "message": "The request's credentials are malformed.",
        },
    ),
    "401": _answer(
        "No credentials, or a token that is invalid, expired, revoked or of a type this "
        "operation does not accept.",
        "WWW-Authenticate",
        {"error": "invalid_token", "reason": "token-expired", "message": "The token expired."},
    ),
    "403": _answer(
        "A valid token that lacks a required scope, permission, role, feature or plan.",
        "WWW-Authenticate",
        {
            "error": "insufficient_scope",
            "reason": "insufficient-scope",
            "message": "The token does not grant what this operation requires.",
        },
    ),
    "503": _answer(
        "Clerk could not be reached to verify the token; retry after `Retry-After` seconds.",
        "Retry-After",
        {
            "error": "temporarily_unavailable",
            "reason": "unexpected-error",
            "message": "Authentication is temporarily unavailable; retry later.",
        },
    ),
}


def add_error_schemas(schema: dict[str, Any]) -> None:
    """Put ``ClerkError`` and ``ClerkErrorDetail`` into ``components.schemas``."""
    document = ClerkError.model_json_schema(ref_template=_REF)
    definitions = document.pop("$defs", {})
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ClerkError", document)
    for name, definition in definitions.items():
        schemas.setdefault(name, definition)
