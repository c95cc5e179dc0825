"""What the fake's parts share: ids, timestamps, the in-memory record of an opaque token."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

OpaqueKind = Literal["m2m_token", "api_key", "oauth_token"]
_ALNUM = string.ascii_letters + string.digits


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


class TokenStore:
    """The opaque tokens the fake knows, by value and by id."""

    clock: Callable[[], float]

    def __init__(self) -> None:
        self._store: dict[str, Record] = {}
        self._by_id: dict[str, str] = {}

    def _now(self) -> int:
        return int(self.clock())

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
        self._store[token] = record
        if isinstance(record.resource.get("id"), str):
            self._by_id[record.resource["id"]] = token


def error(status: int, message: str, code: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "long_message": message, "code": code}]},
        status_code=status,
    )


def optional_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def page(items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
    try:
        limit = int(request.query_params.get("limit", "10"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        limit, offset = 10, 0
    return items[offset : offset + limit]
