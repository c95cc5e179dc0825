"""What the fake's parts share: ids, timestamps, the in-memory record of an opaque token, and
the wire rules of Clerk's Backend API (error bodies, numbers, pagination, id patterns) as its
OpenAPI spec (``clerk/openapi-specs``, the ``Clerk-API-Version`` the package sends) gives them."""

from __future__ import annotations

import itertools
import math
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

OpaqueKind = Literal["m2m_token", "api_key", "oauth_token"]
_ALNUM = string.ascii_letters + string.digits

# A Clerk-shaped user id (``user_`` + 27 word characters, the spec's ``^user_\w{27}$``): the
# fake's default subject for session tokens, OAuth tokens and API keys.
TEST_USER_ID = "user_2test" + "0" * 22

# The spec's id patterns (``subject`` of API keys and M2M tokens, path ids).
API_KEY_SUBJECT = re.compile(r"(user|org|mch|scim)_\w{27}")
MACHINE_ID = re.compile(r"mch_\w{27}")
USER_ID = re.compile(r"user_\w{27}")
API_KEY_ID = re.compile(r"(ak|api_key)_[0-9A-Fa-f]{32}")
M2M_TOKEN_ID = re.compile(r"mt_[0-9A-Fa-f]{32}")


def random_text(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def hex_id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Record:
    kind: OpaqueKind
    resource: dict[str, Any]
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Creation order: lists are newest first, also for records made in the same millisecond.
    seq: int = 0


class TokenStore:
    """The opaque tokens the fake knows, by value and by id."""

    clock: Callable[[], float]

    def __init__(self) -> None:
        self._store: dict[str, Record] = {}
        self._by_id: dict[str, str] = {}
        self._sequence = itertools.count(1)

    def _now(self) -> int:
        return int(self.clock())

    def _now_ms(self) -> int:
        """Clerk's resource timestamps: milliseconds, not whole seconds."""
        return int(self.clock() * 1000)

    def register_opaque(
        self,
        token: str,
        kind: OpaqueKind,
        resource: dict[str, Any],
    ) -> None:
        """Make the verify endpoint answer 200 with ``resource`` (raw wire JSON) for ``token``."""
        self._remember(token, Record(kind, dict(resource)))

    def revoke(self, token: str, reason: str | None = None) -> None:
        """Revoke an opaque token: its verify endpoint answers 404 from now on."""
        record = self._store[token]
        record.revoked = True
        record.resource["revoked"] = True
        record.resource["revocation_reason"] = reason

    def resource(self, token: str) -> dict[str, Any]:
        return self._store[token].resource

    def _remember(self, token: str, record: Record) -> None:
        record.seq = next(self._sequence)
        self._store[token] = record
        if isinstance(record.resource.get("id"), str):
            self._by_id[record.resource["id"]] = token


def error(
    status: int, message: str, code: str, *, long_message: str | None = None, **meta: Any
) -> Response:
    """Clerk's error body: ``errors[]`` (``message``, ``long_message``, ``code``, ``meta``),
    ``meta`` and a ``clerk_trace_id`` (the spec's ``ClerkErrors``)."""
    item: dict[str, Any] = {
        "message": message,
        "long_message": long_message or message,
        "code": code,
        "meta": meta,
    }
    return JSONResponse(
        {"errors": [item], "meta": {}, "clerk_trace_id": secrets.token_hex(16)},
        status_code=status,
    )


def bad_param(name: str, message: str, status: int = 400) -> Response:
    """A request parameter the spec refuses (Clerk's ``form_param_*`` codes)."""
    return error(
        status,
        "is invalid",
        "form_param_value_invalid",
        long_message=f"{name} {message}",
        param_name=name,
    )


def missing_param(name: str, status: int = 400) -> Response:
    return error(
        status,
        "is missing",
        "form_param_missing",
        long_message=f"{name} must be included",
        param_name=name,
    )


def unknown_params(body: dict[str, Any], allowed: set[str], status: int = 400) -> Response | None:
    """The spec's ``additionalProperties: false``: a field it does not list is refused."""
    for name in body:
        if name not in allowed:
            return error(
                status,
                "is unknown",
                "form_param_unknown",
                long_message=f"{name} is not a valid parameter for this request.",
                param_name=name,
            )
    return None


def not_found(message: str = "not found") -> Response:
    return error(404, "not found", "resource_not_found", long_message=message)


def number(value: Any) -> float | None:
    """A JSON value the spec types ``number`` (``600`` and ``600.0`` alike); ``None`` if it is
    not one (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# Past this a lifetime is not a lifetime (and its milliseconds would overflow): refused.
MAX_LIFETIME_SECONDS = 10**10


def bad_lifetime(value: Any) -> bool:
    """``seconds_until_expiration`` as the spec types it: absent, or a positive number."""
    if value is None:
        return False
    parsed = number(value)
    return parsed is None or not 0 < parsed <= MAX_LIFETIME_SECONDS


def whole(value: Any) -> int | None:
    """An integral number (``2`` or ``2.0``, as the Python SDK sends a ``number``) as an int."""
    parsed = number(value)
    if parsed is None or not parsed.is_integer():
        return None
    return int(parsed)


def query_whole(request: Request, name: str) -> int | Response | None:
    """A query parameter typed ``number`` that must be whole (``limit=2.0`` is 2); absent is
    ``None``; anything else a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = whole(float(raw))
    except ValueError:
        value = None
    if value is None:
        return bad_param(name, "must be a whole number")
    return value


def query_bool(request: Request, name: str) -> bool | Response:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return False
    if raw not in ("true", "false"):
        return bad_param(name, "must be true or false")
    return raw == "true"


def page(
    items: list[dict[str, Any]], request: Request, *, status: int = 400, max_limit: int = 100
) -> list[dict[str, Any]] | Response:
    """``limit`` (1 to ``max_limit``, default 10) and ``offset`` (0 or more), integers or
    integral floats as the spec's ``number`` allows; anything else is refused with ``status``
    (400 for the token endpoints, 422 for ``/machines``)."""
    bounds = {"limit": (1, max_limit, 10), "offset": (0, None, 0)}
    picked: dict[str, int] = {}
    for name, (low, high, default) in bounds.items():
        value = query_whole(request, name)
        if isinstance(value, Response):
            return bad_param(name, "must be a whole number", status)
        value = default if value is None else value
        if value < low or (high is not None and value > high):
            return bad_param(name, f"must be between {low} and {high or 'any'}", status)
        picked[name] = value
    return items[picked["offset"] : picked["offset"] + picked["limit"]]
