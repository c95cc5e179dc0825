"""RFC 6750 answers: 400 ``invalid_request``, 401 ``invalid_token``, 403 ``insufficient_scope``,
503 with ``Retry-After``. No token-derived text ever reaches a header."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from fastapi import HTTPException, WebSocketException, status
from starlette.requests import HTTPConnection

from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.errors import Reason

# What a reason code may look like to be echoed as error_description; else a fixed text.
_SAFE_REASON = re.compile(r"[A-Za-z0-9 ._:-]{1,64}")

POLICY_VIOLATION = 1008
_FIXED_MESSAGES = {
    "invalid_request": "The request's credentials are malformed.",
    "insufficient_scope": "The token does not grant what this operation requires.",
    "unavailable": "Authentication is temporarily unavailable; retry later.",
}


class ClerkAuthError(HTTPException):
    """An authentication or authorization failure with a stable ``error`` and ``reason``."""

    def __init__(
        self,
        status_code: int,
        error: str,
        reason: str,
        message: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(
            status_code=status_code,
            detail={"error": error, "reason": reason, "message": message},
            headers=headers,
        )
        self.error = error
        self.reason = reason


def _challenge(params: Sequence[tuple[str, str]]) -> str:
    if not params:
        return "Bearer"
    return "Bearer " + ", ".join(f'{name}="{value}"' for name, value in params)


def _safe_reason(reason: str | None) -> str:
    return reason if reason and _SAFE_REASON.fullmatch(reason) else "invalid"


def error_for_state(
    state: RequestState,
    *,
    resource_metadata: str | None,
    retry_after_default: int,
    scope: Sequence[str] = (),
) -> ClerkAuthError:
    """``scope``: put on 401 challenges (RFC 6750 §3; MCP clients request what it names)."""
    reason = _safe_reason(state.reason)
    meta = [("scope", " ".join(scope))] if scope else []
    if resource_metadata:
        meta.append(("resource_metadata", resource_metadata))
    if state.error == "unavailable":
        retry = state.retry_after if state.retry_after is not None else retry_after_default
        return ClerkAuthError(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            reason,
            _FIXED_MESSAGES["unavailable"],
            {"Retry-After": str(max(1, math.ceil(retry)))},
        )
    if state.error == "invalid_request":
        return ClerkAuthError(
            status.HTTP_400_BAD_REQUEST,
            "invalid_request",
            reason,
            _FIXED_MESSAGES["invalid_request"],
            {"WWW-Authenticate": _challenge([("error", "invalid_request")])},
        )
    if state.error == "missing":
        return ClerkAuthError(
            status.HTTP_401_UNAUTHORIZED,
            "missing_token",
            reason,
            "Authentication credentials were not provided.",
            {"WWW-Authenticate": _challenge(meta)},
        )
    if state.status == "signed-in":  # a pending session while pending counts as signed out
        reason = Reason.SESSION_PENDING
    message = state.message or "The access token is not valid."
    return ClerkAuthError(
        status.HTTP_401_UNAUTHORIZED,
        "invalid_token",
        reason,
        message,
        {
            "WWW-Authenticate": _challenge(
                [("error", "invalid_token"), ("error_description", reason), *meta]
            )
        },
    )


def insufficient_scope(
    required: Sequence[str], *, resource_metadata: str | None = None
) -> ClerkAuthError:
    params = [("error", "insufficient_scope"), ("scope", " ".join(required))]
    if resource_metadata:
        params.append(("resource_metadata", resource_metadata))
    return ClerkAuthError(
        status.HTTP_403_FORBIDDEN,
        "insufficient_scope",
        Reason.INSUFFICIENT_SCOPE,
        _FIXED_MESSAGES["insufficient_scope"],
        {"WWW-Authenticate": _challenge(params)},
    )


def for_connection(conn: HTTPConnection, error: ClerkAuthError) -> Exception:
    """HTTP requests get the HTTP error; WebSockets are closed with 1008 and the reason code."""
    if conn.scope.get("type") == "websocket":
        return WebSocketException(code=POLICY_VIOLATION, reason=f"{error.error}:{error.reason}")
    return error
