"""Token classification exactly as Clerk's JS backend does it, and the ``accepts`` rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from clerk_fastapi.errors import TokenVerificationError
from clerk_fastapi.jose.compact import CompactJWS, parse_compact
from clerk_fastapi.models import TOKEN_TYPES

M2M_TOKEN_PREFIX = "mt_"
OAUTH_TOKEN_PREFIX = "oat_"
API_KEY_PREFIX = "ak_"
M2M_SUBJECT_PREFIX = "mch_"
OAUTH_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
OPAQUE_PREFIXES: Mapping[str, str] = {
    M2M_TOKEN_PREFIX: "m2m_token",
    OAUTH_TOKEN_PREFIX: "oauth_token",
    API_KEY_PREFIX: "api_key",
}

CATEGORY_SESSION = "cl_B7d4PD111AAA"
CATEGORY_JWT_TEMPLATE = "cl_B7d4PD222AAA"
CATEGORY_M2M = "cl_B7d4PD333AAA"
CATEGORY_IGNORE = "cl_I7d4PD111III"
SESSION_CATEGORIES = frozenset({CATEGORY_SESSION, CATEGORY_IGNORE})

# What Clerk issues after the prefix: ASCII letters, digits and _ - + / = . (design section 7).
OPAQUE_BODY = re.compile(r"[A-Za-z0-9_\-+/=.]{8,509}")
OPAQUE_MAX_LENGTH = 512

ALIASES = {"machine_token": "m2m_token"}


@dataclass(slots=True)
class Credential:
    """A presented token, classified but not verified."""

    token: str
    token_type: str
    jws: CompactJWS | None = None
    carrier: Literal["header", "cookie"] = "header"
    _digest: bytes | None = field(default=None, repr=False)

    @property
    def digest(self) -> bytes:
        """SHA-256 of the exact token: the only form in which a token is ever a cache key."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.token.encode("utf-8", "surrogatepass")).digest()
        return self._digest

    @property
    def fingerprint(self) -> str:
        """Short, loggable identity of the token (first 12 hex digits of its SHA-256)."""
        return self.digest.hex()[:12]

    def __repr__(self) -> str:  # never show the token
        return f"Credential(type={self.token_type!r}, fingerprint={self.fingerprint!r})"


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def opaque_format_ok(token: str) -> bool:
    """Cheap syntactic pre-check for ``mt_``/``oat_``/``ak_`` tokens, before any network call."""
    if len(token) > OPAQUE_MAX_LENGTH:
        return False
    for prefix in OPAQUE_PREFIXES:
        if token.startswith(prefix):
            return OPAQUE_BODY.fullmatch(token, len(prefix)) is not None
    return False


def classify(token: str, custom_prefixes: Mapping[str, str] | None = None) -> Credential:
    """Clerk's ``getMachineTokenType`` order: M2M (prefix or ``sub`` mch_) before OAuth (prefix or
    ``typ`` at+jwt), then API keys; anything else is a session token."""
    if custom_prefixes:
        for prefix, token_type in custom_prefixes.items():
            if token.startswith(prefix):
                return Credential(token, token_type)
    for prefix, token_type in OPAQUE_PREFIXES.items():
        if token.startswith(prefix):
            return Credential(token, token_type)
    jws: CompactJWS | None = None
    if token.count(".") == 2:  # parse_compact refuses anything else that is not a JWS
        try:
            jws = parse_compact(token)
        except TokenVerificationError:
            jws = None
    if jws is not None:
        sub = jws.payload.get("sub")
        if isinstance(sub, str) and sub.startswith(M2M_SUBJECT_PREFIX):
            return Credential(token, "m2m_token", jws)
        typ = jws.header.get("typ")
        if isinstance(typ, str) and typ in OAUTH_JWT_TYPES:
            return Credential(token, "oauth_token", jws)
    return Credential(token, "session_token", jws)


@dataclass(frozen=True, slots=True)
class Accepts:
    """A normalised ``accepts``: one type, a list, or ``"any"``."""

    types: frozenset[str]
    any: bool = False
    single: str | None = None

    def allows(self, token_type: str) -> bool:
        return self.any or token_type in self.types

    @property
    def includes_session(self) -> bool:
        return self.any or "session_token" in self.types

    @property
    def ordered(self) -> tuple[str, ...]:
        known = [t for t in TOKEN_TYPES if self.any or t in self.types]
        return tuple(known + sorted(t for t in self.types if t not in TOKEN_TYPES))


def normalize_accepts(accepts: str | Iterable[str], known: Iterable[str] = TOKEN_TYPES) -> Accepts:
    """Validate ``accepts``; unknown names fail at once with the list of valid ones."""
    valid = set(known)
    if isinstance(accepts, str):
        if accepts == "any":
            return Accepts(types=frozenset(valid), any=True)
        name = ALIASES.get(accepts, accepts)
        if name not in valid:
            raise ValueError(
                f"unknown token type {accepts!r}; expected one of {sorted(valid)}, "
                "'machine_token' or 'any'"
            )
        return Accepts(types=frozenset({name}), single=name)
    names = list(accepts)
    if not names:
        raise ValueError("accepts must name at least one token type")
    resolved = set()
    for item in names:
        if not isinstance(item, str):
            raise ValueError(f"accepts entries must be strings, got {item!r}")
        if item == "any":
            raise ValueError("'any' cannot be combined with other token types")
        name = ALIASES.get(item, item)
        if name not in valid:
            raise ValueError(
                f"unknown token type {item!r}; expected one of {sorted(valid)} or 'machine_token'"
            )
        resolved.add(name)
    return Accepts(types=frozenset(resolved))
