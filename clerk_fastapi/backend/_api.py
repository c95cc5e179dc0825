"""What ``clerk.m2m``, ``clerk.api_keys``, ``clerk.oauth_tokens`` and ``clerk.machines`` share.

The token paths carry no ``/v1`` (Clerk's "bapi-proxy" endpoints; the version travels in the
``Clerk-API-Version`` header); ``/v1/machines`` does, as in Clerk's SDK. Every call uses the
``Clerk``'s pooled client and deadlines.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.resources import Page
from clerk_fastapi.errors import ClerkAPIError, ConfigurationError
from clerk_fastapi.settings import ClerkSettings

R = TypeVar("R", bound=BaseModel)


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


# Clerk's ids: a type prefix and base62 (``ak_2xhF...``, ``mt_...``); "-" is harmless in a path.
_CLERK_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def path_id(value: str) -> str:
    """An id placed in a URL path, checked against Clerk's alphabet before any request (so no
    character can change the path or make httpx refuse the URL). The error never echoes the
    value: a secret passed by mistake must not reach a log."""
    if not isinstance(value, str) or _CLERK_ID.fullmatch(value) is None:
        raise ValueError(
            "not a valid Clerk id: expected letters, digits, '_' or '-' (such as ak_2xhF...), "
            "up to 128 characters"
        )
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
    # The spec types total_count as a number: 1.0 is a count, 1.5 and true are not.
    if isinstance(total, float) and total.is_integer():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool):
        raise _invalid_answer()
    return Page[model](  # type: ignore[valid-type]
        data=[resource(model, item) for item in items], total_count=total
    )


class BackendAPI:
    """One group of Backend API calls over the ``Clerk``'s HTTP client."""

    def __init__(self, http: BackendHTTP, settings: ClerkSettings) -> None:
        self._http = http
        self._settings = settings

    def _secret(self) -> str:
        secret = self._settings.secret()
        if secret is None:
            raise ConfigurationError("This call needs CLERK_SECRET_KEY.")
        return secret
