"""The error answers of ``Auth`` (``errors.py``) as OpenAPI documents them: the body model and,
per status, its ``WWW-Authenticate`` / ``Retry-After`` header and an example."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clerk_fastapi.errors import Reason


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


# The OpenAPI component keeps its published name, ``ClerkError`` (clients generated from the
# document use it); the Python class is named apart from the ``ClerkError`` exception.
SCHEMA_NAME = "ClerkError"


class ClerkErrorBody(BaseModel):
    """The body of every 400, 401, 403 and 503 answer of a route protected by `Auth`."""

    model_config = ConfigDict(title=SCHEMA_NAME)

    detail: ClerkErrorDetail


_REF = "#/components/schemas/{model}"

# The examples are real answers: tests/fastapi_auth/test_openapi_examples.py sends each request
# below to a real app and compares the body and the header with these (a change to an answer
# that is not made here fails it).


def _answer(
    description: str, header: str, header_example: str, example: dict[str, str]
) -> dict[str, Any]:
    if header == "Retry-After":
        headers = {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
                "example": int(header_example),
            }
        }
    else:
        headers = {
            "WWW-Authenticate": {
                "description": "The RFC 6750 challenge.",
                "schema": {"type": "string"},
                "example": header_example,
            }
        }
    return {
        "description": description,
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {"$ref": _REF.format(model=SCHEMA_NAME)},
                "example": {"detail": example},
            }
        },
    }


_EXPIRED = Reason.SESSION_TOKEN_EXPIRED + "non-eligible-no-refresh-cookie"

AUTH_ANSWERS: dict[str, dict[str, Any]] = {
    # An empty bearer value.
    "400": _answer(
        "Malformed credentials (an empty bearer token, two tokens, two Authorization headers).",
        "WWW-Authenticate",
        'Bearer error="invalid_request"',
        {
            "error": "invalid_request",
            "reason": Reason.INVALID_REQUEST,
            "message": "The request's credentials are malformed.",
        },
    ),
    # An expired session token on a GET (Clerk's reason for it).
    "401": _answer(
        "No credentials, or a token that is invalid, expired, revoked or of a type this "
        "operation does not accept.",
        "WWW-Authenticate",
        f'Bearer error="invalid_token", error_description="{_EXPIRED}"',
        {"error": "invalid_token", "reason": _EXPIRED, "message": "The token has expired."},
    ),
    # A valid M2M token without the route's scope `jobs:write`.
    "403": _answer(
        "A valid token that lacks a required scope, permission, role, feature or plan.",
        "WWW-Authenticate",
        'Bearer error="insufficient_scope", scope="jobs:write"',
        {
            "error": "insufficient_scope",
            "reason": Reason.INSUFFICIENT_SCOPE,
            "message": "The token does not grant what this operation requires.",
        },
    ),
    # Clerk unreachable while the signing keys are not loaded yet.
    "503": _answer(
        "Clerk could not be reached to verify the token; retry after `Retry-After` seconds.",
        "Retry-After",
        "2",
        {
            "error": "temporarily_unavailable",
            "reason": Reason.UNEXPECTED_ERROR,
            "message": "Authentication is temporarily unavailable; retry later.",
        },
    ),
}


def add_error_schemas(schema: dict[str, Any]) -> None:
    """Put ``ClerkErrorBody`` (as ``ClerkError``) and ``ClerkErrorDetail`` into
    ``components.schemas``."""
    document = ClerkErrorBody.model_json_schema(ref_template=_REF)
    definitions = document.pop("$defs", {})
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(SCHEMA_NAME, document)
    for name, definition in definitions.items():
        schemas.setdefault(name, definition)
