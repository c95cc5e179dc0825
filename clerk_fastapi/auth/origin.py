"""Cookie-carried sessions and ``Origin``: the CSRF and cross-site WebSocket defence.

A browser attaches the ``__session`` cookie to requests any website makes, so a cookie proves
the user's browser sent the request, not that the user's page did. Reading (GET, HEAD, OPTIONS)
is harmless; an unsafe method or a WebSocket handshake (browsers apply no same-origin policy to
WebSockets) carrying the cookie must come from a page whose ``Origin`` is one of
``authorized_parties``. Header tokens are unaffected: a page cannot make a browser send them.
"""

from __future__ import annotations

from clerk_fastapi.auth.credentials import Connection
from clerk_fastapi.settings import ClerkSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def origin_allowed(conn: Connection, settings: ClerkSettings) -> bool:
    """May a session cookie authenticate this connection? With no ``authorized_parties`` there
    is nothing to compare with (``Clerk`` warns about that at start-up)."""
    if not settings.authorized_parties:
        return True
    scope = conn.scope
    if scope.get("type") != "websocket" and str(scope.get("method", "")).upper() in SAFE_METHODS:
        return True
    origins = conn.headers.getlist("origin")
    # No Origin (or "null", or two of them) on an unsafe cross-site request: refused.
    return len(origins) == 1 and origins[0] in settings.authorized_parties
