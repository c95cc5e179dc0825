"""Read the credential a connection carries: the ``Authorization`` header, else (when enabled
and the route accepts sessions) the session cookies, as Clerk's ``authenticateRequest`` reads them.

Framework-agnostic: anything with Starlette's ``headers.getlist``, ``method`` (optional) and
``scope`` works (a Starlette ``Request`` or ``WebSocket``). The ``Cookie`` header is parsed by
``auth/cookies.py``, not by the framework, so that duplicates can be seen.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, NamedTuple, Protocol

from clerk_fastapi.kinds.base import Carrier, bytes_digest, token_digest


class Headers(Protocol):
    def getlist(self, key: str) -> list[str]: ...


class Connection(Protocol):
    """The parts of an HTTP or WebSocket connection that authentication reads."""

    @property
    def headers(self) -> Headers: ...
    @property
    def scope(self) -> MutableMapping[str, Any]: ...


class Presented(NamedTuple):
    """What the connection carried: a token (and where), nothing, or a malformed header."""

    token: str | None
    carrier: Carrier = "header"
    malformed: bool = False


NOTHING = Presented(None)
MALFORMED = Presented(None, malformed=True)
# Fetch's Headers trims these from a header value before Clerk sees it.
_HTTP_WHITESPACE = " \t\r\n"
# The fast path of read_authorization: a scheme Clerk's exact spelling or all lower case, and a
# token that neither trimming nor splitting would change.
_BEARER = (b"Bearer ", b"bearer ")
_TRAILING_WHITESPACE = (b" ", b"\t", b"\r", b"\n")


def header_values(conn: Connection, name: str) -> list[str]:
    """Every value of header ``name`` (lower case), read from the ASGI scope when there is one:
    building Starlette's ``Headers`` costs more than the cached answer the ``Authorization``
    header usually leads to. ASGI servers send header names in lower case (Starlette's
    ``getlist`` relies on that too)."""
    raw = conn.scope.get("headers")
    if raw is None:
        return conn.headers.getlist(name)
    key = name.encode("latin-1")
    return [value.decode("latin-1") for header, value in raw if header == key]


def read_header(conn: Connection) -> Presented:
    """The ``Authorization`` token, as Clerk's ``parseAuthorizationHeader`` reads it, with our
    RFC deviations (docs/parity.md).

    Clerk splits the trimmed value on spaces and keeps two fields: one field (or an empty second
    one, from two spaces) is the token itself; ``Bearer <token>`` gives the token; any other
    scheme gives no header token. We also accept the scheme in any case (RFC 7235), and answer
    400 ``invalid_request`` for two headers, ``Bearer`` with nothing after it, and anything
    after the token (RFC 6750: exactly one b64token), where Clerk guesses.
    """
    values = header_values(conn, "authorization")
    if len(values) > 1:
        return MALFORMED
    if not values:
        return NOTHING
    value = values[0].strip(_HTTP_WHITESPACE)
    if not value:
        return NOTHING  # an empty header is no header (Clerk)
    # Clerk's fields are value.split(" "); partition finds the same ones without copying a
    # long token into a list.
    scheme, space, rest = value.partition(" ")
    if not space:
        if scheme.lower() == "bearer":
            return MALFORMED  # "Bearer" (or "Bearer ") with no token
        return Presented(value)  # Clerk takes a value with no space as the token
    if rest.startswith(" "):
        return Presented(scheme)  # "Bearer  <t>": an empty second field, Clerk's token is the first
    if scheme.lower() != "bearer":
        return NOTHING  # another scheme (Basic, ...) is no Bearer credential at all
    if " " in rest:
        return MALFORMED  # a third field
    return Presented(rest)


def read_authorization(conn: Connection) -> tuple[Presented, bytes | None]:
    """``read_header`` and the token's digest (``token_digest``), in one pass.

    The usual header, one ``Bearer <ASCII token>`` value, is taken from the raw bytes: what
    ``read_header`` would read from it and the SHA-256 of the same bytes, without decoding,
    trimming and re-encoding a kilobyte of token. Anything else goes through ``read_header``.
    """
    raw = conn.scope.get("headers")
    if raw is not None:
        value = None
        for name, found in raw:
            if name == b"authorization":
                if value is not None:
                    value = None  # two headers: read_header's answer (400)
                    break
                value = found
        if value is not None:
            token = value[7:]
            if (
                value[:7] in _BEARER
                and token
                and token.isascii()
                and token[-1:] not in _TRAILING_WHITESPACE
                and b" " not in token
            ):
                return Presented(token.decode("ascii")), bytes_digest(token)
    presented = read_header(conn)
    token_text = presented.token
    return presented, (token_digest(token_text) if token_text is not None else None)


def request_method(conn: Connection) -> str:
    method = conn.scope.get("method")
    return method.upper() if isinstance(method, str) else "GET"
