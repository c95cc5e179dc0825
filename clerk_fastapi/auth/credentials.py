"""Read the credential a connection carries: the ``Authorization`` header, else (when enabled
and the route accepts sessions) the session cookies, as Clerk's ``authenticateRequest`` reads them;
and ``RequestContext``, one request's authentication facts, read once and shared by every ``Auth``
of the request: the header's token and digest, the request's one look into the result cache, the
memo of verification outcomes, and what Clerk's session error handling reads besides the token
(method, cookies, client address), read only when asked.

Framework-agnostic: anything with Starlette's ``headers.getlist``, ``method`` (optional) and
``scope`` works (a Starlette ``Request`` or ``WebSocket``). The ``Cookie`` header is parsed by
``auth/cookies.py``, not by the framework, so that duplicates can be seen.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any, NamedTuple, Protocol

from clerk_fastapi.kinds.base import Carrier, bytes_digest, token_digest
from clerk_fastapi.principals import Verified


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


def _raw_values(conn: Connection, name: bytes) -> list[bytes]:
    """Every raw value of header ``name`` (lower case), from the ASGI scope's headers (names
    arrive in lower case; Starlette's ``getlist`` relies on that too), else from ``headers``."""
    raw = conn.scope.get("headers")
    if raw is None:
        return [value.encode("latin-1") for value in conn.headers.getlist(name.decode())]
    values = []
    for header, value in raw:
        if header == name:
            values.append(value)
    return values


def header_values(conn: Connection | None, name: str) -> list[str]:
    """Every value of header ``name`` (lower case), as text (none without a connection)."""
    if conn is None:
        return []
    return [value.decode("latin-1") for value in _raw_values(conn, name.encode("latin-1"))]


def read_authorization(conn: Connection) -> tuple[Presented, bytes | None]:
    """The ``Authorization`` token and its digest (``token_digest``): the one read of the header.

    Two headers are malformed (400). The usual value, ``Bearer <ASCII token>``, is taken from the
    raw bytes: the token ``parse_authorization`` would read and the SHA-256 of the same bytes,
    without decoding, trimming and re-encoding a kilobyte of token.
    """
    values = _raw_values(conn, b"authorization")
    if len(values) != 1:
        return (MALFORMED if values else NOTHING), None
    value = values[0]
    token = value[7:]
    if (
        value[:7] in _BEARER
        and token
        and token.isascii()
        and token[-1:] not in _TRAILING_WHITESPACE
        and b" " not in token
    ):
        return Presented(token.decode("ascii")), bytes_digest(token)
    presented = parse_authorization(value.decode("latin-1"))
    token_text = presented.token
    return presented, (token_digest(token_text) if token_text is not None else None)


def parse_authorization(value: str) -> Presented:
    """One ``Authorization`` value, as Clerk's ``parseAuthorizationHeader`` reads it, with our
    RFC deviations (docs/parity.md).

    Clerk splits the trimmed value on spaces and keeps two fields: one field (or an empty second
    one, from two spaces) is the token itself; ``Bearer <token>`` gives the token; any other
    scheme gives no header token. We also accept the scheme in any case (RFC 7235), and answer
    400 ``invalid_request`` for ``Bearer`` with nothing after it and anything after the token
    (RFC 6750: exactly one b64token), where Clerk guesses.
    """
    value = value.strip(_HTTP_WHITESPACE)
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


def request_method(conn: Connection | None) -> str:
    method = conn.scope.get("method") if conn is not None else None
    return method.upper() if isinstance(method, str) else "GET"


# The one key this package keeps in an ASGI scope: the request's context.
CONTEXT_KEY = "clerk_fastapi.context"


class RequestContext:
    """What one request presented and what its authentication has learnt so far."""

    __slots__ = (
        "carrier",
        "digest",
        "found",
        "looked",
        "malformed",
        "memo",
        "started",
        "token",
    )

    def __init__(self, conn: Connection) -> None:
        """The context of ``conn``: its ``Authorization`` header is read here."""
        # No reference to the connection: the context lives in the connection's scope, and a
        # cycle would leave every request's objects to the garbage collector.
        presented, digest = read_authorization(conn)
        self.token = presented.token
        self.carrier: Carrier = presented.carrier
        self.malformed = presented.malformed
        self.digest = digest
        self.started = time.perf_counter()
        # The result-cache look this request made: under which key and what it found.
        self.looked: tuple[object, bytes] | None = None
        self.found: Verified | None = None
        # Verification outcomes by (authenticator, digest): a request with several ``Auth``
        # dependencies verifies its token once.
        self.memo: dict[Any, Any] = {}

    @classmethod
    def of(cls, conn: Connection) -> RequestContext:
        """The connection's context, made (and its header read) on first use."""
        scope = conn.scope
        context: RequestContext | None = scope.get(CONTEXT_KEY)
        if context is None:
            context = scope[CONTEXT_KEY] = cls(conn)
        return context
