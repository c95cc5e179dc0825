"""The decision for a token the result cache could not answer: classify, the cookie checks,
``accepts`` before any I/O, Clerk's JWT-shape rule, the shared tier, the request's memo, the
kind's verifier, then the state (Clerk's order, ``tokens/request.ts``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.auth.client import client_address
from clerk_fastapi.auth.cookie_path import CookieCheck
from clerk_fastapi.auth.cookies import Instance, has_refresh_cookie, parse_cookie_header
from clerk_fastapi.auth.credentials import Connection, header_values, request_method
from clerk_fastapi.auth.state import Outcomes, RequestState, Source
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.errors import (
    ClerkError,
    ConfigurationError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.kinds import CLERK_MACHINE_PREFIXES, JWT_SHAPED_MACHINE_TYPE
from clerk_fastapi.kinds.base import Carrier, Credential
from clerk_fastapi.kinds.registry import SESSION_TOKEN, KindRegistry
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

logger = logging.getLogger("clerk_fastapi")

# Clerk's ``isJwtFormat``: a prefixed machine token of this shape is decoded as a JWT and fails.
_JWT_FORMAT = re.compile(r"[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]+")

_TIME_REASONS = {
    Reason.TOKEN_NOT_ACTIVE_YET: Reason.SESSION_TOKEN_NBF,
    Reason.TOKEN_IAT_IN_THE_FUTURE: Reason.SESSION_TOKEN_IAT_IN_THE_FUTURE,
}


def session_reason(reason: str, conn: Connection | None, instance: Instance) -> str:
    """Clerk's ``handleSessionTokenError``: the time-claim reasons of a session token, on every
    path. We never refresh (an API backend holds no refresh flow): with a refresh cookie on a
    GET we report Clerk's own reason for an SDK without a Backend API client."""
    if reason == Reason.TOKEN_EXPIRED:
        if request_method(conn) != "GET":
            refresh = "non-eligible-non-get"
        elif not _refresh_cookie(conn, instance):
            refresh = "non-eligible-no-refresh-cookie"
        else:
            refresh = "missing-api-client"
        return Reason.SESSION_TOKEN_EXPIRED + refresh
    return _TIME_REASONS.get(reason, reason)


def _refresh_cookie(conn: Connection | None, instance: Instance) -> bool:
    values = header_values(conn, "cookie")
    return bool(values) and has_refresh_cookie(parse_cookie_header(values), instance)


@dataclass(slots=True)
class _Outcome:
    verified: Verified | None = None
    error: ClerkError | None = None


class Pipeline:
    def __init__(
        self,
        settings: ClerkSettings,
        registry: KindRegistry,
        clock: Callable[[], float],
        store: VerificationStore,
        outcomes: Outcomes,
        cookie_instance: Callable[[], Instance],
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._clock = clock
        self._store = store
        self._outcomes = outcomes
        self._cookie_instance = cookie_instance
        self.verifications = 0

    async def run(
        self,
        token: str,
        key: bytes,
        digest: bytes,
        spec: Accepts,
        carrier: Carrier,
        memo: dict[Any, Any] | None,
        conn: Connection | None,
        machine_secret_key: str | None = None,
        cookie_check: CookieCheck | None = None,
        client: str | None = None,
    ) -> RequestState:
        outcomes = self._outcomes
        fingerprint = digest.hex()[:12]
        credential = self._registry.classify(token, key)
        credential.machine_secret_key = machine_secret_key
        if credential.jws is None:
            # Only opaque tokens reach the Backend API and its per-client budget.
            # Without a connection: the client the caller named (None: the shared bucket).
            credential.client = client if conn is None else client_address(conn, self._settings)
        if carrier == "cookie":
            credential.carrier = "cookie"
            if cookie_check is not None:
                refused = cookie_check(credential)
                if refused is not None:
                    return refused
        if credential.token_type not in spec.types:  # resolved by Authenticator.normalize
            return outcomes.mismatch(spec, token, fingerprint, credential.token_type)
        if (
            credential.jws is None
            and token.startswith(CLERK_MACHINE_PREFIXES)
            and _JWT_FORMAT.fullmatch(token)
        ):
            # Clerk decodes a prefixed token of JWT shape as a JWT, fails, and calls it m2m_token.
            return outcomes.signed_out(
                JWT_SHAPED_MACHINE_TYPE,
                Reason.TOKEN_INVALID,
                "The token is not a valid JWT.",
                "invalid_token",
                fingerprint=fingerprint,
            )
        if carrier == "header" and self._store.shared:
            # A shared tier (Redis) may know it; asked only once the type is one we accept.
            shared = await self._store.get_verified(key)
            if shared is not None:
                return outcomes.signed_in(credential.token_type, shared, fingerprint, "cache")

        # The request's verification outcomes (None: a bare token, verified once).
        memo_key = (id(self), key)
        outcome = memo.get(memo_key) if memo is not None else None
        source: Source = "memo"
        if outcome is None:
            source = "verified"
            outcome = await self._verify(credential)
            if memo is not None:
                memo[memo_key] = outcome
        if outcome.verified is not None:
            return outcomes.signed_in(credential.token_type, outcome.verified, fingerprint, source)
        error = outcome.error
        if isinstance(error, UpstreamError):
            return outcomes.signed_out(
                credential.token_type,
                error.reason,
                error.message,
                "unavailable",
                fingerprint=fingerprint,
                retry_after=error.retry_after,
                source=source,
            )
        assert isinstance(error, TokenVerificationError)
        reason = error.reason
        if credential.token_type == SESSION_TOKEN:
            reason = session_reason(reason, conn, self._cookie_instance())
        return outcomes.signed_out(
            spec.single or credential.token_type,
            reason,
            error.message,
            "invalid_token",
            fingerprint=fingerprint,
            source=source,
        )

    async def _verify(self, credential: Credential) -> _Outcome:
        verifier = self._registry.get(credential.token_type)
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
            await self._store.put_verified(credential.digest, verified)
        return _Outcome(verified=verified)
