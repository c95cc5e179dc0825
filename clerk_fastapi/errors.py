"""Exceptions with stable codes.

Every failure the package reports carries a ``reason``: Clerk's own reason code where Clerk has one
(``token-expired``, ``token-type-mismatch``, ...), else a stable code of ours. Messages are fixed
texts: nothing here ever holds a token, a signature or a secret.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("clerk_fastapi")


class Reason:
    """Reason codes, as in Clerk's ``TokenVerificationErrorReason`` and ``AuthErrorReason``."""

    TOKEN_EXPIRED = "token-expired"
    TOKEN_INVALID = "token-invalid"
    TOKEN_INVALID_ALGORITHM = "token-invalid-algorithm"
    TOKEN_INVALID_AUTHORIZED_PARTIES = "token-invalid-authorized-parties"
    TOKEN_INVALID_SIGNATURE = "token-invalid-signature"
    TOKEN_INVALID_ISSUER = "token-invalid-issuer"
    TOKEN_NOT_ACTIVE_YET = "token-not-active-yet"
    TOKEN_IAT_IN_THE_FUTURE = "token-iat-in-the-future"
    TOKEN_VERIFICATION_FAILED = "token-verification-failed"
    TOKEN_TYPE_MISMATCH = "token-type-mismatch"
    # An OAuth token for another resource (``aud``) on an MCP resource server.
    TOKEN_INVALID_AUDIENCE = "token-invalid-audience"
    SECRET_KEY_INVALID = "secret-key-invalid"
    JWK_LOCAL_MISSING = "jwk-local-missing"
    JWK_REMOTE_FAILED_TO_LOAD = "jwk-remote-failed-to-load"
    JWK_REMOTE_INVALID = "jwk-remote-invalid"
    JWK_FAILED_TO_RESOLVE = "jwk-failed-to-resolve"
    JWK_KID_MISMATCH = "jwk-kid-mismatch"
    UNEXPECTED_ERROR = "unexpected-error"
    # Clerk's ad-hoc string for a machine-only route with no Authorization header.
    NO_TOKEN_IN_HEADER = "No token in header"
    SESSION_TOKEN_MISSING = "session-token-and-uat-missing"
    # Clerk's session reasons (``AuthErrorReason``): what ``authenticateRequest`` reports for a
    # session token's time claims, and the cookie path's ``__client_uat`` decisions.
    SESSION_TOKEN_EXPIRED = "session-token-expired-refresh-"  # + the refresh error
    SESSION_TOKEN_NBF = "session-token-nbf"
    SESSION_TOKEN_IAT_IN_THE_FUTURE = "session-token-iat-in-the-future"
    SESSION_TOKEN_WITHOUT_CLIENT_UAT = "session-token-but-no-client-uat"
    CLIENT_UAT_WITHOUT_SESSION_TOKEN = "client-uat-but-no-session-token"
    SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT = "session-token-iat-before-client-uat"
    # Ours: a pending session (``sts: pending``) while pending sessions count as signed out.
    SESSION_PENDING = "session-pending"
    # Ours: malformed request framing (two Authorization headers, empty bearer value).
    INVALID_REQUEST = "invalid-request"
    # Ours: a __session cookie on an unsafe method or a WebSocket handshake whose Origin is not
    # among the authorized parties (CSRF, cross-site WebSocket hijacking).
    ORIGIN_NOT_ALLOWED = "origin-not-allowed"
    # Ours: our own fleet-wide guard stopped a Backend API call before Clerk would answer 429.
    RATE_LIMITED = "rate-limited"
    # Ours: the route's scopes / permissions are not met.
    INSUFFICIENT_SCOPE = "insufficient-scope"


class ClerkError(Exception):
    """Base class. ``code`` is stable and machine readable."""

    code: str = "clerk-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(ClerkError, ValueError):
    """The settings cannot work (bad key prefix, unparsable PEM, missing secret)."""

    code = "configuration-error"


class TokenVerificationError(ClerkError):
    """The presented token is not valid: the answer is 401 ``invalid_token``."""

    code = "token-invalid"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, code=reason)

    @property
    def reason(self) -> str:
        return self.code


class UpstreamError(ClerkError):
    """Clerk could not answer (down, slow, 429, 5xx, our secret rejected): the answer is 503."""

    code = "upstream-unavailable"

    def __init__(self, reason: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, code=reason)
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        return self.code


class ClerkAPIError(ClerkError):
    """A non-2xx answer from Clerk's Backend API.

    Carries ``status``, the ``errors[]`` entries (``code``, ``message``, ``long_message``,
    ``meta``),
    ``clerk_trace_id`` and ``retry_after``. The request's secret is never part of it.
    """

    code = "clerk-api-error"

    def __init__(
        self,
        status: int,
        errors: list[dict[str, Any]] | None = None,
        *,
        clerk_trace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.errors: list[dict[str, Any]] = list(errors or [])
        self.clerk_trace_id = clerk_trace_id
        self.retry_after = retry_after
        first = self.errors[0] if self.errors else {}
        message = str(first.get("message") or f"Clerk answered {status}")
        super().__init__(message, code=str(first.get("code") or "clerk-api-error"))

    def __repr__(self) -> str:
        return (
            f"ClerkAPIError(status={self.status}, code={self.code!r}, "
            f"trace={self.clerk_trace_id!r})"
        )


class ClerkNetworkError(ClerkError):
    """Clerk's Backend API could not be reached (connection error or timeout)."""

    code = "clerk-network-error"


def map_upstream(
    exc: ClerkAPIError | ClerkNetworkError, *, what: str, reason: str = Reason.UNEXPECTED_ERROR
) -> UpstreamError:
    """The one translation from a Backend API failure to "cannot decide now" (503).

    Clerk refusing our own secret key is logged loudly (it is a configuration mistake); the
    rest keeps Clerk's ``Retry-After``.
    """
    if isinstance(exc, ClerkNetworkError):
        return UpstreamError(reason, exc.message)
    if exc.status in (401, 403):
        logger.error(
            "Clerk refused our secret key %s (status %s, code %s): check CLERK_SECRET_KEY",
            what,
            exc.status,
            exc.code,
        )
        return UpstreamError(Reason.SECRET_KEY_INVALID, "Clerk rejected the secret key.")
    return UpstreamError(
        reason, f"Clerk answered {exc.status} {what}.", retry_after=exc.retry_after
    )
