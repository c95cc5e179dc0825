"""``authenticate_request``: read the credential, classify it, check ``accepts``, verify.

The type check against ``accepts`` happens before any network call or signature work, for every
form of ``accepts``. Framework-agnostic: works on any Starlette ``HTTPConnection``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import HTTPConnection

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.errors import (
    ClerkError,
    ConfigurationError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.models import SessionAuth
from clerk_fastapi.observability import Observer
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.tokens import (
    OPAQUE_PREFIXES,
    Accepts,
    Credential,
    classify,
    normalize_accepts,
    token_digest,
)
from clerk_fastapi.verifiers.base import Verified
from clerk_fastapi.verifiers.registry import VerifierRegistry

logger = logging.getLogger("clerk_fastapi")

ErrorKind = Literal["missing", "invalid_request", "invalid_token", "unavailable"]
SESSION_COOKIE = "__session"
CLIENT_UAT_COOKIE = "__client_uat"
_MEMO_KEY = "clerk_fastapi.memo"


@dataclass(frozen=True, slots=True)
class RequestState:
    """The outcome of ``authenticate_request``, as in Clerk's JS SDK.

    ``status`` is ``signed-in`` or ``signed-out``; ``reason`` is Clerk's reason code (``None`` when
    signed in); ``error`` says how an HTTP layer should answer (``missing``: 401 with no error,
    ``invalid_request``: 400, ``invalid_token``: 401, ``unavailable``: 503).
    """

    status: Literal["signed-in", "signed-out"]
    token_type: str | None
    reason: str | None = None
    message: str = ""
    error: ErrorKind | None = None
    auth: BaseModel | None = None
    retry_after: float | None = None
    fingerprint: str | None = None
    treat_pending_as_signed_out: bool = True
    # Where the answer came from: "verified" now, the result "cache", or this request's "memo".
    source: Literal["verified", "cache", "memo"] | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.to_auth() is not None

    @property
    def is_pending(self) -> bool:
        return isinstance(self.auth, SessionAuth) and self.auth.session_status == "pending"

    def to_auth(self, *, treat_pending_as_signed_out: bool | None = None) -> Any:
        """The verified principal, or ``None`` (signed out, or a pending session by default)."""
        if self.status != "signed-in":
            return None
        treat = (
            self.treat_pending_as_signed_out
            if treat_pending_as_signed_out is None
            else treat_pending_as_signed_out
        )
        if treat and self.is_pending:
            return None
        return self.auth


@dataclass(frozen=True, slots=True)
class _Extracted:
    token: str | None
    carrier: Literal["header", "cookie"] = "header"
    malformed: bool = False
    signed_out_cookie: bool = False


def _extract(conn: HTTPConnection, settings: ClerkSettings, accepts: Accepts) -> _Extracted:
    values = conn.headers.getlist("authorization")
    if len(values) > 1:
        return _Extracted(None, malformed=True)
    if values:
        value = values[0]
        scheme, space, rest = value.partition(" ")
        if space:
            if scheme.lower() == "bearer":
                token = rest.strip(" ")
                # Empty, or two space-separated tokens: RFC 6750 invalid_request. (Other odd
                # characters, commas included, simply fail verification: 401.)
                if not token or " " in token or "\t" in token:
                    return _Extracted(None, malformed=True)
                return _Extracted(token)
            # Another scheme (Basic, ...) is no Bearer credential at all.
        elif value.lower() == "bearer" or not value:
            return _Extracted(None, malformed=True)
        else:
            return _Extracted(value)  # Clerk takes a value with no space as the token.
    if settings.session_cookie and accepts.includes_session:
        if conn.cookies.get(CLIENT_UAT_COOKIE) == "0":
            return _Extracted(None, signed_out_cookie=True)
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            return _Extracted(cookie, carrier="cookie")
    return _Extracted(None)


@dataclass(slots=True)
class _Outcome:
    verified: Verified | None = None
    error: ClerkError | None = None


class Authenticator:
    """Holds what verification needs; ``Clerk`` owns one."""

    def __init__(
        self,
        settings: ClerkSettings,
        registry: VerifierRegistry,
        clock: Callable[[], float],
        store: VerificationStore,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self._clock = clock
        self.store = store
        self._normalized: dict[tuple[str, tuple[str, ...]], Accepts] = {}
        self.verifications = 0
        self.observer = Observer()

    def clear(self) -> None:
        self.store.clear()

    def forget(self, token: str) -> None:
        """Drop any cached result for ``token`` (for example from a revocation webhook)."""
        self.store.forget(token_digest(token))

    def _signed_out(
        self,
        accepts: Accepts,
        token_type: str | None,
        reason: str,
        message: str,
        error: ErrorKind,
        *,
        fingerprint: str | None = None,
        retry_after: float | None = None,
        source: Literal["verified", "cache", "memo"] | None = None,
    ) -> RequestState:
        return RequestState(
            status="signed-out",
            token_type=token_type,
            reason=reason,
            message=message,
            error=error,
            fingerprint=fingerprint,
            retry_after=retry_after,
            treat_pending_as_signed_out=self.settings.treat_pending_as_signed_out,
            source=source,
        )

    def _mismatch(
        self, accepts: Accepts, credential_type: str, token: str, fingerprint: str
    ) -> RequestState:
        if accepts.single is not None:
            reason = Reason.TOKEN_TYPE_MISMATCH
            # Parity: an opaque machine token on a session-only route fails to decode as a JWT.
            if accepts.single == "session_token" and token.startswith(tuple(OPAQUE_PREFIXES)):
                reason = Reason.TOKEN_INVALID
            return self._signed_out(
                accepts, accepts.single, reason, "", "invalid_token", fingerprint=fingerprint
            )
        return self._signed_out(
            accepts, None, Reason.TOKEN_TYPE_MISMATCH, "", "invalid_token", fingerprint=fingerprint
        )

    async def authenticate_request(
        self, conn: HTTPConnection, accepts: str | Iterable[str] | Accepts = "session_token"
    ) -> RequestState:
        started = time.perf_counter()
        state = await self._authenticate_request(conn, accepts)
        # One event per request, however many Auth dependencies; nothing when nobody listens.
        if state.source != "memo" and self.observer.wants(state):
            await self.observer.emit(state, started)
        return state

    async def _authenticate_request(
        self, conn: HTTPConnection, accepts: str | Iterable[str] | Accepts
    ) -> RequestState:
        spec = accepts if isinstance(accepts, Accepts) else self.normalize(accepts)
        extracted = _extract(conn, self.settings, spec)
        if extracted.malformed:
            return self._signed_out(
                spec,
                spec.single,
                Reason.INVALID_REQUEST,
                "The Authorization header is malformed.",
                "invalid_request",
            )
        if extracted.token is None:
            if not spec.includes_session:
                return self._signed_out(spec, spec.single, Reason.NO_TOKEN_IN_HEADER, "", "missing")
            return self._signed_out(
                spec,
                "session_token",
                Reason.SESSION_TOKEN_MISSING,
                "No session token was sent.",
                "missing",
            )
        memo: dict[Any, Any] = conn.scope.setdefault(_MEMO_KEY, {})
        return await self._authenticate_token(
            extracted.token, spec, carrier=extracted.carrier, memo=memo
        )

    def normalize(self, accepts: str | Iterable[str]) -> Accepts:
        # Keyed with the registered types too: registering a verifier changes what "any" means.
        key = (accepts, self.registry.token_types) if isinstance(accepts, str) else None
        if key is not None and key in self._normalized:
            return self._normalized[key]
        spec = normalize_accepts(accepts, known=self.registry.token_types)
        if key is not None and len(self._normalized) < 64:
            self._normalized[key] = spec
        return spec

    async def authenticate_token(
        self,
        token: str,
        accepts: str | Iterable[str] | Accepts = "session_token",
        *,
        carrier: Literal["header", "cookie"] = "header",
    ) -> RequestState:
        """Authenticate a bare token (no request), with the same rules."""
        started = time.perf_counter()
        state = await self._authenticate_token(token, accepts, carrier=carrier, memo=None)
        if self.observer.wants(state):
            await self.observer.emit(state, started)
        return state

    async def _authenticate_token(
        self,
        token: str,
        accepts: str | Iterable[str] | Accepts,
        *,
        carrier: Literal["header", "cookie"],
        memo: dict[Any, Any] | None,
    ) -> RequestState:
        spec = accepts if isinstance(accepts, Accepts) else self.normalize(accepts)
        if len(token) > self.settings.max_token_length:
            return self._signed_out(
                spec, spec.single, Reason.TOKEN_INVALID, "The token is too long.", "invalid_token"
            )
        digest = token_digest(token)
        fingerprint = digest.hex()[:12]
        # Fast path: a token verified before (never past its expiry) costs one hash and a lookup.
        cached = self.store.peek(digest)
        if cached is not None and carrier == "header":
            token_type = str(getattr(cached.principal, "token_type", ""))
            if not spec.allows(token_type):
                return self._mismatch(spec, token_type, token, fingerprint)
            return self._signed_in(token_type, cached, fingerprint, "cache")

        credential = classify(token, self.registry.custom_prefixes)
        credential._digest = digest
        if carrier == "cookie":
            credential.carrier = "cookie"
            if credential.token_type != "session_token":
                # Machine tokens are accepted only from the Authorization header.
                return self._signed_out(
                    spec,
                    "session_token",
                    Reason.TOKEN_TYPE_MISMATCH,
                    "",
                    "invalid_token",
                    fingerprint=fingerprint,
                )
        if not spec.allows(credential.token_type):
            return self._mismatch(spec, credential.token_type, token, fingerprint)
        if carrier == "header":
            # A shared tier (Redis) may know it; asked only once the type is one we accept.
            shared = await self.store.get_verified(digest)
            if shared is not None:
                return self._signed_in(credential.token_type, shared, fingerprint, "cache")

        outcome = memo.get((id(self), digest)) if memo is not None else None
        source: Literal["verified", "memo"] = "memo"
        if outcome is None:
            source = "verified"
            outcome = await self._verify(credential)
            if memo is not None:
                memo[(id(self), digest)] = outcome
        if outcome.verified is not None:
            return self._signed_in(credential.token_type, outcome.verified, fingerprint, source)
        error = outcome.error
        if isinstance(error, UpstreamError):
            return self._signed_out(
                spec,
                credential.token_type,
                error.reason,
                error.message,
                "unavailable",
                fingerprint=fingerprint,
                retry_after=error.retry_after,
                source=source,
            )
        assert isinstance(error, TokenVerificationError)
        return self._signed_out(
            spec,
            spec.single or credential.token_type,
            error.reason,
            error.message,
            "invalid_token",
            fingerprint=fingerprint,
            source=source,
        )

    def _signed_in(
        self,
        token_type: str,
        verified: Verified,
        fingerprint: str,
        source: Literal["verified", "cache", "memo"],
    ) -> RequestState:
        return RequestState(
            status="signed-in",
            token_type=token_type,
            auth=verified.principal,
            fingerprint=fingerprint,
            treat_pending_as_signed_out=self.settings.treat_pending_as_signed_out,
            source=source,
        )

    async def _verify(self, credential: Credential) -> _Outcome:
        verifier = self.registry.get(credential.token_type)
        if verifier is None:
            return _Outcome(
                error=TokenVerificationError(Reason.TOKEN_INVALID, "Unsupported token type.")
            )
        self.verifications += 1
        try:
            result = await verifier.verify(credential)
        except (TokenVerificationError, UpstreamError) as exc:
            return _Outcome(error=exc)
        except ConfigurationError as exc:
            logger.error("Clerk configuration error: %s", exc.message)
            return _Outcome(error=UpstreamError(Reason.UNEXPECTED_ERROR, "Configuration error."))
        except Exception:
            # A bug must not become a 500 on attacker input; never log the token itself.
            logger.exception(
                "unexpected error verifying a %s token fp=%s",
                credential.token_type,
                credential.fingerprint,
            )
            return _Outcome(
                error=TokenVerificationError(Reason.UNEXPECTED_ERROR, "Unexpected error.")
            )
        verified = result if isinstance(result, Verified) else Verified(result)
        if verified.cache_until is not None and verified.cache_until > self._clock():
            await self.store.put_verified(credential.digest, verified)
        return _Outcome(verified=verified)
