"""Networkless verifiers for the three JWT classes: session, OAuth access token and M2M token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose import claims as jwt_claims
from clerk_fastapi.jose.compact import CompactJWS, parse_compact
from clerk_fastapi.jose.verify import verify_signature
from clerk_fastapi.jwks import JWKSStore
from clerk_fastapi.models import M2MAuth, OAuthAuth
from clerk_fastapi.session_claims import session_auth_from_claims
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.tokens import (
    CATEGORY_M2M,
    OAUTH_JWT_TYPES,
    SESSION_CATEGORIES,
    Credential,
)
from clerk_fastapi.verifiers.base import Verified

# Claims Clerk reserves for itself; the rest of an M2M/OAuth JWT payload is custom claims.
RESERVED_MACHINE_CLAIMS = frozenset({"iss", "sub", "exp", "nbf", "iat", "jti"})
# A verified result is never reused for more than this, whatever the token's exp says.
MAX_RESULT_CACHE_SECONDS = 3600.0


def _parsed(credential: Credential) -> CompactJWS:
    return credential.jws if credential.jws is not None else parse_compact(credential.token)


def _cache_until(exp: float | int, now: float) -> float:
    limit = now + MAX_RESULT_CACHE_SECONDS
    return float(exp) if exp < limit else limit


class _JWTVerifier:
    def __init__(
        self, settings: ClerkSettings, keys: JWKSStore, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._clock = clock
        self.calls = 0


class SessionTokenVerifier(_JWTVerifier):
    """Clerk's ``verifyToken`` plus the header path's class checks, on every path."""

    async def verify(self, credential: Credential) -> Verified:
        self.calls += 1
        jws = _parsed(credential)
        category = jws.header.get("cat")
        if category is not None and (
            not isinstance(category, str) or category not in SESSION_CATEGORIES
        ):
            # M2M and JWT-template categories (and anything unknown) are not session tokens.
            raise TokenVerificationError(
                Reason.TOKEN_TYPE_MISMATCH, "The token is not a session token."
            )
        await verify_signature(jws, self._keys.get_key, allowed_typ=("JWT",), typ_optional=True)
        payload = jws.payload
        settings = self._settings
        now = self._clock()
        jwt_claims.check_subject(payload)
        jwt_claims.check_issuer(payload, settings.issuer)
        jwt_claims.check_audience(payload, settings.audience)
        jwt_claims.check_authorized_party(payload, settings.authorized_parties)
        exp = jwt_claims.check_times(payload, now, settings.clock_skew)
        return Verified(session_auth_from_claims(payload), _cache_until(exp, now))


class _MachineJWTVerifier(_JWTVerifier):
    async def _verify_common(
        self, jws: CompactJWS, *, allowed_typ: tuple[str, ...], typ_optional: bool
    ) -> float | int:
        # Clerk wraps every failure after decoding as token-verification-failed.
        try:
            await verify_signature(
                jws, self._keys.get_key, allowed_typ=allowed_typ, typ_optional=typ_optional
            )
            payload = jws.payload
            jwt_claims.check_subject(payload)
            jwt_claims.check_issuer(payload, self._settings.issuer)
            return jwt_claims.check_times(payload, self._clock(), self._settings.clock_skew)
        except TokenVerificationError as exc:
            raise TokenVerificationError(Reason.TOKEN_VERIFICATION_FAILED, exc.message) from None


def _custom_claims(payload: dict[str, Any]) -> dict[str, Any] | None:
    custom = {k: v for k, v in payload.items() if k not in RESERVED_MACHINE_CLAIMS}
    return custom or None


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


class M2MJWTVerifier(_MachineJWTVerifier):
    async def verify(self, credential: Credential) -> Verified:
        self.calls += 1
        jws = _parsed(credential)
        category = jws.header.get("cat")
        if category is not None and category != CATEGORY_M2M:
            # Checked before any key lookup, as in Clerk.
            raise TokenVerificationError(Reason.TOKEN_INVALID, "Invalid M2M JWT category.")
        exp = await self._verify_common(jws, allowed_typ=("JWT",), typ_optional=True)
        payload = jws.payload
        raw_scopes = payload.get("scopes")
        if isinstance(raw_scopes, str):
            scopes = [s for s in raw_scopes.split(" ") if s]
        else:
            aud = payload.get("aud")
            scopes = _str_list(aud) or ([aud] if isinstance(aud, str) else [])
        jti = payload.get("jti")
        principal = M2MAuth(
            id=jti if isinstance(jti, str) else "",
            subject=payload["sub"],
            machine_id=payload["sub"],
            scopes=scopes,
            claims=_custom_claims(payload),
            expiration=jwt_claims.to_datetime(payload.get("exp")),
        )
        return Verified(principal, _cache_until(exp, self._clock()))


class OAuthJWTVerifier(_MachineJWTVerifier):
    async def verify(self, credential: Credential) -> Verified:
        self.calls += 1
        jws = _parsed(credential)
        exp = await self._verify_common(
            jws, allowed_typ=tuple(sorted(OAUTH_JWT_TYPES)), typ_optional=False
        )
        payload = jws.payload
        scp = _str_list(payload.get("scp"))
        scope = payload.get("scope")
        if scp is not None:
            scopes = scp
        elif isinstance(scope, str):
            scopes = [s for s in scope.split(" ") if s]
        else:
            scopes = []
        jti = payload.get("jti")
        client_id = payload.get("client_id")
        principal = OAuthAuth(
            id=jti if isinstance(jti, str) else "",
            subject=payload["sub"],
            user_id=payload["sub"],
            client_id=client_id if isinstance(client_id, str) else "",
            scopes=scopes,
            claims=_custom_claims(payload),
            expiration=jwt_claims.to_datetime(payload.get("exp")),
        )
        return Verified(principal, _cache_until(exp, self._clock()))
