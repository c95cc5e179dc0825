"""The cookie path of Clerk's ``authenticateRequest`` (reference section 4.6), production flows.

``parse_cookie_header`` reads the ``Cookie`` header as the ``cookie`` 1.1.1 package does (split on
``;`` then on the first ``=``, trim spaces and tabs, percent-decode only when that works, no quote
stripping, the first occurrence of a name wins) and also keeps every value, so that two
different ``__session`` cookies (a sibling subdomain tossing one in) can be refused instead of
silently picking one. ``session_cookies`` chooses between the plain and the suffixed cookie
names and applies the ``__client_uat`` decisions that come before any JWT check.

Development-instance flows (dev browser), multi-domain sync and the handshake are not
implemented: an API backend never redirects (docs/parity.md).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose.claims import is_number
from clerk_fastapi.jose.compact import parse_compact

SESSION = "__session"
CLIENT_UAT = "__client_uat"
REFRESH = "__refresh"

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# ECMAScript's StrWhiteSpaceChar (WhiteSpace and LineTerminator), then Number.parseInt's
# grammar with no radix: an optional sign, then 0x/0X and hexadecimal digits, or decimal digits.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_PARSE_INT = re.compile(f"[{_JS_SPACE}]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))")
# More significant digits than any double can hold: Infinity, as in JavaScript.
_MAX_DIGITS = 400


def _trim(text: str) -> str:
    return text.strip(" \t")


def _decode(value: str) -> str:
    """``decodeURIComponent`` when the value has a ``%`` and decodes cleanly; else as is."""
    if "%" not in value or _BAD_PERCENT.search(value):
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return value


@dataclass(slots=True)
class CookieJar:
    """The request's cookies: the first value of each name, and every value seen."""

    first: dict[str, str] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """The first value; an empty value counts as absent (Clerk's ``|| undefined``)."""
        return self.first.get(name) or None

    def ambiguous(self, name: str) -> bool:
        return len(set(self.values.get(name, ()))) > 1


def parse_cookie_header(headers: list[str]) -> CookieJar:
    jar = CookieJar()
    for part in "; ".join(headers).split(";"):
        name, eq, value = part.partition("=")
        if not eq:
            continue
        name, value = _trim(name), _decode(_trim(value))
        jar.first.setdefault(name, value)
        jar.values.setdefault(name, []).append(value)
    return jar


def cookie_suffix(publishable_key: str) -> str:
    """First 8 characters of the URL-safe base64 of SHA-1(publishable key), as Clerk."""
    digest = hashlib.sha1(publishable_key.encode()).digest()  # noqa: S324 (Clerk's own scheme)
    return base64.b64encode(digest).decode().replace("+", "-").replace("/", "_")[:8]


def parse_int(value: str | None) -> float:
    """JavaScript's ``Number.parseInt(value) || 0`` (what Clerk reads ``__client_uat`` with):
    a leading integer, hexadecimal after ``0x``, as a double; else 0."""
    match = _JS_PARSE_INT.match(value or "")
    if match is None:
        return 0.0
    sign, hexadecimal, decimal = match.groups()
    digits = (hexadecimal or decimal).lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        number = math.inf
    else:
        try:
            number = float(int(digits, 16 if hexadecimal else 10))
        except OverflowError:
            number = math.inf
    return -number if sign == "-" else number


def _claims(token: str | None, max_length: int) -> dict[str, Any] | None:
    # Over the length cap a cookie is never parsed (bounded work on attacker input).
    if not token or len(token) > max_length:
        return None
    try:
        return parse_compact(token).payload
    except TokenVerificationError:
        return None


def _iat(token: str | None, max_length: int) -> float:
    iat: Any = (_claims(token, max_length) or {}).get("iat")
    return float(iat) if is_number(iat) else 0.0


@dataclass(frozen=True, slots=True)
class Instance:
    """What the cookie path needs to know about the Clerk instance (from the publishable key)."""

    suffix: str | None = None
    frontend_api: str | None = None
    production: bool = True
    max_token_length: int = 16_384

    @classmethod
    def from_publishable_key(
        cls, key: str | None, frontend_api: str | None, max_token_length: int = 16_384
    ) -> Instance:
        if not key:
            return cls(max_token_length=max_token_length)
        return cls(cookie_suffix(key), frontend_api, key.startswith("pk_live_"), max_token_length)

    def name(self, base: str, suffixed: bool) -> str:
        return f"{base}_{self.suffix}" if suffixed and self.suffix else base


NO_INSTANCE = Instance()


def uses_suffixed_cookies(jar: CookieJar, instance: Instance, now: float) -> bool:
    """Clerk's ``usesSuffixedCookies``: the first rule that applies (reference section 4.6)."""
    if not instance.suffix:
        return False
    suffixed_uat = jar.get(instance.name(CLIENT_UAT, True))
    plain_uat = jar.get(CLIENT_UAT)
    suffixed_session = jar.get(instance.name(SESSION, True))
    plain_session = jar.get(SESSION)
    if plain_session:
        iss = (_claims(plain_session, instance.max_token_length) or {}).get("iss")
        if not iss:
            return False
        host = re.sub(r"https?://", "", iss, flags=re.IGNORECASE) if isinstance(iss, str) else None
        if host != instance.frontend_api:
            return True
    if not suffixed_uat and not suffixed_session:
        return False
    limit = instance.max_token_length
    both_active = suffixed_uat != "0" and plain_uat != "0"
    if both_active and _iat(plain_session, limit) > _iat(suffixed_session, limit):
        return False
    if suffixed_uat == "0" and plain_uat != "0":
        return False
    if not instance.production and suffixed_uat != "0" and plain_uat == "0":
        exp: Any = (_claims(suffixed_session, instance.max_token_length) or {}).get("exp")
        if is_number(exp) and exp <= int(now):
            return False
    return not (not suffixed_uat and suffixed_session)


@dataclass(frozen=True, slots=True)
class CookieSession:
    """The cookie path's outcome before any JWT check: a token to verify, or a decision."""

    token: str | None
    client_uat: float = 0
    reason: str | None = None
    message: str = ""
    # True when the request carried no credential at all (401 without an error code).
    missing: bool = False


def session_cookies(jar: CookieJar, instance: Instance, now: float) -> CookieSession:
    """Steps 4 to 6 of Clerk's cookie path, after choosing plain or suffixed names."""
    suffixed = uses_suffixed_cookies(jar, instance, now)
    session_name = instance.name(SESSION, suffixed)
    session = jar.get(session_name)
    uat = parse_int(jar.get(instance.name(CLIENT_UAT, suffixed)))
    if jar.ambiguous(session_name):
        # Our deviation: Clerk takes the first; a sibling subdomain can plant either one.
        return CookieSession(
            None,
            reason=Reason.TOKEN_INVALID,
            message=f"Two different {session_name} cookies were sent; refusing both.",
        )
    if not uat and not session:
        return CookieSession(
            None, reason=Reason.SESSION_TOKEN_MISSING, message="No session token.", missing=True
        )
    if not uat:
        return CookieSession(
            None,
            reason=Reason.SESSION_TOKEN_WITHOUT_CLIENT_UAT,
            message="A session cookie came without an active __client_uat cookie.",
        )
    if not session:
        return CookieSession(
            None,
            reason=Reason.CLIENT_UAT_WITHOUT_SESSION_TOKEN,
            message="The __client_uat cookie says signed in, but no session cookie was sent.",
            missing=True,
        )
    return CookieSession(session, client_uat=uat)


def has_refresh_cookie(jar: CookieJar, instance: Instance) -> bool:
    """Clerk reads ``__refresh`` only under its suffixed name."""
    return instance.suffix is not None and jar.get(instance.name(REFRESH, True)) is not None
