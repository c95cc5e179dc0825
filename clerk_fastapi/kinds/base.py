"""What every token kind is made of: the presented ``Credential``, the ``TokenKind`` record
(how a type is recognised and documented) and the ``TokenVerifier`` protocol."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from clerk_fastapi.jose.compact import CompactJWS
from clerk_fastapi.principals import Verified

Carrier = Literal["header", "cookie"]


# Copied, never updated: ``hashlib.sha256()`` makes OpenSSL 3 look the algorithm up on every
# call, which inside a running server (its caches cold) cost about as much as all the rest of
# a cached request's authentication; a copy skips the lookup.
_SHA256 = hashlib.sha256()


def token_digest(token: str) -> bytes:
    """SHA-256 of the exact token: the only form in which a token is ever a cache key."""
    sha = _SHA256.copy()  # bytes_digest, inline: every bare token passes here
    sha.update(token.encode("utf-8", "surrogatepass"))
    return sha.digest()


def bytes_digest(data: bytes) -> bytes:
    """``token_digest`` of a token already in its UTF-8 bytes."""
    sha = _SHA256.copy()
    sha.update(data)
    return sha.digest()


@dataclass(slots=True)
class Credential:
    """A presented token, classified but not verified."""

    token: str
    token_type: str
    jws: CompactJWS | None = None
    carrier: Carrier = "header"
    # ``token_digest(token)``, given by whoever classified the token (it hashed it already):
    # required, as it is the token's cache key.
    digest: bytes = field(kw_only=True, repr=False)
    # The client's address (after trusted proxies), when a connection carried the token: the
    # opaque policy's per-client budget is kept for it.
    client: str | None = None
    # A per-call machine secret key (``authenticate_request(..., machine_secret_key=...)``).
    machine_secret_key: str | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        """Short, loggable identity of the token (first 12 hex digits of its SHA-256)."""
        return self.digest.hex()[:12]

    def __repr__(self) -> str:  # never show the token
        return f"Credential(type={self.token_type!r}, fingerprint={self.fingerprint!r})"


@runtime_checkable
class TokenVerifier(Protocol):
    """Verify one credential of the registered type.

    Return a ``Verified`` (or a bare principal, never cached). Raise ``TokenVerificationError``
    when the token is not valid (401) and ``UpstreamError`` when it cannot be decided now (503).
    """

    async def verify(self, credential: Credential) -> Verified | BaseModel: ...


@dataclass(frozen=True, slots=True)
class TokenKind:
    """Everything the package needs to know about one token type, apart from verification.

    ``prefixes`` recognise opaque tokens; ``jwt_types`` (header ``typ`` values),
    ``jwt_subject_prefix`` (of ``sub``) and ``matches_jwt`` (any test of your own) recognise the
    type's JWTs, tried by ``jwt_rank`` (Clerk's order: M2M before OAuth; a JWT nobody claims is
    a session token).
    ``principal`` is the model a route receives (it is also how the shared cache rebuilds a
    result). ``scheme_name``, ``bearer_format``, ``description`` and ``scoped`` document the type
    in OpenAPI; ``scoped`` types carry scopes that ``Auth(scopes=...)`` checks.
    """

    name: str
    principal: type[BaseModel]
    prefixes: tuple[str, ...] = ()
    jwt_types: tuple[str, ...] = ()
    jwt_subject_prefix: str = ""
    matches_jwt: Callable[[CompactJWS], bool] | None = None
    jwt_rank: int = 100  # lower is tried first (Clerk: M2M before OAuth)
    scheme_name: str = ""
    bearer_format: str = ""
    description: str = ""
    scoped: bool = True
    # OpenAPI: an OAuth2 authorization-code flow on the instance's Frontend API (when the
    # publishable key names it) instead of a bearer scheme; sent in the ``__session`` cookie too.
    oauth2_flow: bool = False
    cookie: bool = False
    # Opaque kinds Clerk verifies: the Backend API endpoint, its body field, and our message
    # when Clerk does not know the token (the fake Clerk serves these endpoints from here).
    # Rebuilds a principal from ``Verified.compact`` (the result cache keeps those bytes, which
    # the garbage collector never traverses, instead of the object).
    from_compact: Callable[[bytes], BaseModel] | None = None
    verify_path: str = ""
    verify_field: str = ""
    not_found: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"a token kind needs a name like 'pat'; got {self.name!r}")
        if any(not prefix for prefix in self.prefixes):
            raise ValueError("an empty prefix would match every token")
        if not self.scheme_name:
            camel = "".join(part.capitalize() for part in self.name.split("_"))
            object.__setattr__(self, "scheme_name", f"Clerk{camel}")
        if not self.bearer_format:
            object.__setattr__(self, "bearer_format", " or ".join(f"{p}..." for p in self.prefixes))
        if not self.description:
            object.__setattr__(self, "description", f"A `{self.name}` bearer token.")

    @property
    def recognises_jwts(self) -> bool:
        return bool(self.jwt_types or self.jwt_subject_prefix) or self.matches_jwt is not None

    def recognises_jwt(self, jws: CompactJWS) -> bool:
        """Whether a (not yet verified) JWT is of this type."""
        if self.jwt_types:
            typ = jws.header.get("typ")
            if isinstance(typ, str) and typ in self.jwt_types:
                return True
        if self.jwt_subject_prefix:
            sub = jws.payload.get("sub")
            if isinstance(sub, str) and sub.startswith(self.jwt_subject_prefix):
                return True
        return self.matches_jwt is not None and self.matches_jwt(jws)
