"""Clerk's claim checks, in Clerk's order (``verifyJwt``), run only after the signature."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from clerk_fastapi.errors import Reason, TokenVerificationError


def is_number(value: Any) -> bool:
    """A JSON number: int or float but never bool, and finite."""
    if type(value) is int:
        return True
    return type(value) is float and math.isfinite(value)


def check_subject(payload: dict[str, Any]) -> str:
    sub = payload.get("sub")
    # Clerk requires a string; we also refuse the empty string (policy).
    if not isinstance(sub, str) or not sub:
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The token's sub claim is missing or not a string."
        )
    return sub


def check_audience(payload: dict[str, Any], audience: Sequence[str]) -> None:
    """Session tokens: Clerk's ``assertAudienceClaim`` plus our policy that a configured audience
    also requires ``aud`` (Clerk skips the check when the token has none, or an odd shape)."""
    if not audience:
        return
    aud = payload.get("aud")
    if isinstance(aud, str):
        ok = aud in audience
    elif isinstance(aud, list):
        ok = any(isinstance(item, str) and item in audience for item in aud)
    else:
        ok = False
    if not ok:
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The token's aud claim is not an accepted audience."
        )


def check_audience_lenient(payload: dict[str, Any], audience: Sequence[str]) -> None:
    """M2M JWTs: Clerk's ``assertAudienceClaim`` exactly: checked only when ``aud`` is truthy; a
    string must be listed, a non-empty list of strings must share an entry, other shapes pass."""
    aud = payload.get("aud")
    if not audience or not aud:
        return
    if isinstance(aud, str):
        ok = aud in audience
    elif isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        ok = any(item in audience for item in aud)
    else:
        return
    if not ok:
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The token's aud claim is not an accepted audience."
        )


def check_authorized_party(payload: dict[str, Any], parties: Sequence[str]) -> None:
    if not parties:
        return
    azp = payload.get("azp")
    if not isinstance(azp, str) or azp not in parties:
        raise TokenVerificationError(
            Reason.TOKEN_INVALID_AUTHORIZED_PARTIES,
            "The token's azp claim is missing or not an authorized party.",
        )


def check_issuer(payload: dict[str, Any], issuer: str | None) -> None:
    """Session tokens only (Clerk 3.25's ``issuer``): ``iss`` must equal it exactly."""
    if issuer and payload.get("iss") != issuer:
        raise TokenVerificationError(
            Reason.TOKEN_INVALID_ISSUER, "The token's iss claim is not the expected issuer."
        )


def check_times(payload: dict[str, Any], now: float, skew: float) -> float | int:
    """``exp`` required and numeric, ``nbf``/``iat`` checked when present; returns ``exp``."""
    exp: Any = payload.get("exp")
    if not is_number(exp):
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The token's exp claim is missing or not a number."
        )
    if exp <= now - skew:
        raise TokenVerificationError(Reason.TOKEN_EXPIRED, "The token has expired.")
    _check_not_in_future(payload, "nbf", now + skew, Reason.TOKEN_NOT_ACTIVE_YET)
    _check_not_in_future(payload, "iat", now + skew, Reason.TOKEN_IAT_IN_THE_FUTURE)
    return exp  # type: ignore[no-any-return]


_FUTURE_MESSAGES = {
    Reason.TOKEN_NOT_ACTIVE_YET: "The token is not active yet.",
    Reason.TOKEN_IAT_IN_THE_FUTURE: "The token was issued in the future.",
}


def _check_not_in_future(payload: dict[str, Any], name: str, latest: float, reason: str) -> None:
    """An optional NumericDate claim (``nbf``, ``iat``) must be a number not after ``latest``."""
    if name not in payload:
        return  # absent is fine; present-but-null is not a number (as in Clerk)
    value: Any = payload[name]
    if not is_number(value):
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, f"The token's {name} claim is not a number."
        )
    if value > latest:
        raise TokenVerificationError(reason, _FUTURE_MESSAGES[reason])


def to_datetime(seconds: Any) -> datetime | None:
    """Seconds since the epoch as an aware datetime, or None when absent or out of range."""
    if not is_number(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def to_millis(seconds: Any) -> int | None:
    if not is_number(seconds):
        return None
    try:
        return int(seconds * 1000)
    except (OverflowError, ValueError):
        return None
