"""What the JWT kinds share: Clerk's token categories, the signature-then-claims steps of machine
JWTs, reserved claims, and how long a verified JWT may be reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clerk_fastapi.errors import Reason, TokenVerificationError, UpstreamError
from clerk_fastapi.jose import claims as jwt_claims
from clerk_fastapi.jose.compact import CompactJWS, parse_compact
from clerk_fastapi.jose.verify import KeyResolver, verify_signature
from clerk_fastapi.kinds.base import Credential

# The ``cat`` header Clerk puts on its JWTs.
CATEGORY_SESSION = "cl_B7d4PD111AAA"
CATEGORY_JWT_TEMPLATE = "cl_B7d4PD222AAA"
CATEGORY_M2M = "cl_B7d4PD333AAA"
CATEGORY_IGNORE = "cl_I7d4PD111III"
SESSION_CATEGORIES = frozenset({CATEGORY_SESSION, CATEGORY_IGNORE})

# Claims Clerk reserves for itself (``fromJwtPayload``); the rest of a machine JWT is custom
# claims (``aud`` and ``scopes`` included: the backend treats them as the caller's).
RESERVED_CLAIMS = frozenset({"iss", "sub", "exp", "nbf", "iat", "jti"})
# A verified result is never reused for more than this, whatever the token's exp says.
MAX_RESULT_CACHE_SECONDS = 3600.0


def parsed(credential: Credential) -> CompactJWS:
    """The credential's JWS, parsed once (classification usually did it already)."""
    return credential.jws if credential.jws is not None else parse_compact(credential.token)


def kid_of(jws: CompactJWS) -> str | None:
    kid = jws.header.get("kid")
    return kid if isinstance(kid, str) else None


def cache_until(exp: float | int, now: float) -> float:
    limit = now + MAX_RESULT_CACHE_SECONDS
    return float(exp) if exp < limit else limit


def custom_claims(payload: dict[str, Any]) -> dict[str, Any] | None:
    custom = {k: v for k, v in payload.items() if k not in RESERVED_CLAIMS}
    return custom or None


def str_list(value: Any) -> list[str] | None:
    """A JSON array of strings as a list; ``None`` for anything else."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def split_scopes(value: Any) -> list[str]:
    """A space-separated scope string: no empty entries from "" or doubled spaces."""
    return [s for s in value.split(" ") if s] if isinstance(value, str) else []


def string(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    return value if isinstance(value, str) else ""


async def verify_machine_jwt(
    jws: CompactJWS,
    resolve_key: KeyResolver,
    *,
    allowed_typ: tuple[str, ...],
    typ_optional: bool,
    now: float,
    skew: float,
    extra_checks: Callable[[dict[str, Any]], None] | None = None,
) -> float | int:
    """Signature, ``sub`` and time claims of an M2M or OAuth JWT; returns ``exp``.

    Clerk wraps every failure after decoding as ``token-verification-failed``.
    """
    try:
        await verify_signature(jws, resolve_key, allowed_typ=allowed_typ, typ_optional=typ_optional)
        payload = jws.payload
        jwt_claims.check_subject(payload)
        exp = jwt_claims.check_times(payload, now, skew)
        if extra_checks is not None:
            extra_checks(payload)
        return exp
    except TokenVerificationError as exc:
        raise TokenVerificationError(Reason.TOKEN_VERIFICATION_FAILED, exc.message) from None
    except UpstreamError as exc:
        # Still "cannot decide now" (503), but with Clerk's reason: its machine path wraps a
        # failed key load like any other failure.
        raise UpstreamError(
            Reason.TOKEN_VERIFICATION_FAILED, exc.message, retry_after=exc.retry_after
        ) from None


def jwt_times(payload: dict[str, Any]) -> dict[str, Any]:
    """Clerk's ``fromJwtPayload`` timestamps: milliseconds; created = updated = ``iat``."""
    iat = jwt_claims.to_millis(payload.get("iat"))
    return {
        "expiration": jwt_claims.to_millis(payload.get("exp")),
        "created_at": iat,
        "updated_at": iat,
    }
