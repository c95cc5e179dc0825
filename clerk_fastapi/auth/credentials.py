"""Read the credential a connection carries: the ``Authorization`` header, else (when enabled
and the route accepts sessions) the ``__session`` cookie.

Framework-agnostic: anything with Starlette's ``headers.getlist``, ``cookies`` and ``scope``
works (a Starlette ``Request`` or ``WebSocket``).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from clerk_fastapi.kinds.base import Carrier

SESSION_COOKIE = "__session"
CLIENT_UAT_COOKIE = "__client_uat"


class Headers(Protocol):
    def getlist(self, key: str) -> list[str]: ...


class Connection(Protocol):
    """The parts of an HTTP or WebSocket connection that authentication reads."""

    @property
    def headers(self) -> Headers: ...
    @property
    def cookies(self) -> Mapping[str, str]: ...
    @property
    def scope(self) -> MutableMapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Presented:
    """What the connection carried: a token (and where), nothing, or a malformed header."""

    token: str | None
    carrier: Carrier = "header"
    malformed: bool = False


NOTHING = Presented(None)
MALFORMED = Presented(None, malformed=True)


def read_credentials(conn: Connection, *, cookie_allowed: bool) -> Presented:
    values = conn.headers.getlist("authorization")
    if len(values) > 1:
        return MALFORMED
    if values:
        value = values[0]
        scheme, space, rest = value.partition(" ")
        if space:
            if scheme.lower() == "bearer":
                token = rest.strip(" ")
                # Empty, or two space-separated tokens: RFC 6750 invalid_request. (Other odd
                # characters, commas included, simply fail verification: 401.)
                if not token or " " in token or "\t" in token:
                    return MALFORMED
                return Presented(token)
            # Another scheme (Basic, ...) is no Bearer credential at all.
        elif value.lower() == "bearer" or not value:
            return MALFORMED
        else:
            return Presented(value)  # Clerk takes a value with no space as the token.
    if cookie_allowed:
        cookies = conn.cookies
        if cookies.get(CLIENT_UAT_COOKIE) == "0":
            return NOTHING
        cookie = cookies.get(SESSION_COOKIE)
        if cookie:
            return Presented(cookie, carrier="cookie")
    return NOTHING
