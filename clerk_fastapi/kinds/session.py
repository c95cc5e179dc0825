"""Session tokens: the RS256 JWT a signed-in user's frontend sends (header or ``__session``).

Recognised as any token no other kind claims; verified networklessly (JWKS or PEM) with
Clerk's ``verifyToken`` plus the header path's class checks; claims (v1 and the compact v2
form) map to ``SessionAuth``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clerk_fastapi.authorization import split_by_scope
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose import claims as jwt_claims
from clerk_fastapi.jose.keys import VerificationKey
from clerk_fastapi.jose.verify import KeyResolver, verify_signature
from clerk_fastapi.kinds._jwt import SESSION_CATEGORIES, cache_until, kid_of, parsed
from clerk_fastapi.kinds.base import Credential, TokenKind
from clerk_fastapi.kinds.builtin import Built, Builtin
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.principals import SessionAuth, Verified
from clerk_fastapi.settings import ClerkSettings


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _csv(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def _org_permissions_v2(org: dict[str, Any], features: list[str]) -> list[str]:
    """``o.per`` names, granted per org-scoped feature by the ``o.fpm`` bitmasks (bit i: per[i])."""
    permissions = _csv(org.get("per"))
    masks = _csv(org.get("fpm"))
    org_features, _ = split_by_scope(features)
    result: list[str] = []
    for index, feature in enumerate(org_features):
        if index >= len(masks):
            break
        try:
            mask = int(masks[index], 10)
        except ValueError:
            continue
        for bit, name in enumerate(permissions):
            if mask >> bit & 1:
                result.append(f"org:{feature}:{name}")
    return result


def _fva(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2:
        first, second = value
        if type(first) is int and type(second) is int:
            return (first, second)
    return None


# What ``SessionAuth.model_validate`` calls, without its per-call keyword handling (a third
# of the cost of validating a principal).
_validate_session = SessionAuth.__pydantic_validator__.validate_python
# Every field's default, each principal starting from a copy: every field is then set, as in
# one decoded from Redis, so ``model_dump(exclude_unset=True)`` keeps ``token_type`` (the
# union's discriminator). Pydantic copies the lists it validates: none is shared.
_DEFAULTS: dict[str, Any] = {
    name: info.get_default(call_default_factory=True)
    for name, info in SessionAuth.model_fields.items()
    if not info.is_required()
}


def session_auth_from_claims(claims: dict[str, Any]) -> SessionAuth:
    """The principal of a verified payload, validated by pydantic (the claims excepted: the
    verified payload itself). Most tokens carry no organisation, features, plans or actor:
    those fields keep their defaults."""
    fields = _DEFAULTS.copy()
    fields["user_id"] = claims["sub"]
    fields["claims"] = claims
    fields["session_id"] = _str(claims.get("sid"))
    fields["session_status"] = _str(claims.get("sts"))
    features: list[str] = []
    if "fea" in claims:
        features = fields["features"] = _csv(claims["fea"])
    if "pla" in claims:
        fields["plans"] = _csv(claims["pla"])
    if claims.get("v") == 2:
        org = claims.get("o")
        if isinstance(org, dict):
            fields["org_id"] = _str(org.get("id"))
            fields["org_slug"] = _str(org.get("slg"))
            role = _str(org.get("rol"))
            fields["org_role"] = f"org:{role}" if role else None
            fields["org_permissions"] = _org_permissions_v2(org, features)
    else:
        fields["org_id"] = _str(claims.get("org_id"))
        fields["org_role"] = _str(claims.get("org_role"))
        fields["org_slug"] = _str(claims.get("org_slug"))
        raw = claims.get("org_permissions")
        if isinstance(raw, list):
            fields["org_permissions"] = [p for p in raw if isinstance(p, str)]
    actor = claims.get("act")
    if isinstance(actor, dict):
        fields["actor"] = actor
    if "fva" in claims:
        fields["factor_verification_age"] = _fva(claims["fva"])
    return _validate_session(fields)  # type: ignore[no-any-return]


class SessionVerifier:
    """Clerk's ``verifyToken`` plus the header path's class checks, on every path."""

    def __init__(
        self, settings: ClerkSettings, resolve_key: KeyResolver, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._resolve_key = resolve_key
        self._clock = clock

    async def verify(self, credential: Credential) -> Verified:
        jws = parsed(credential)
        category = jws.header.get("cat")
        if category is not None and (
            not isinstance(category, str) or category not in SESSION_CATEGORIES
        ):
            # M2M and JWT-template categories (and anything unknown) are not session tokens.
            raise TokenVerificationError(
                Reason.TOKEN_TYPE_MISMATCH, "The token is not a session token."
            )
        await verify_signature(jws, self._resolve_kid, allowed_typ=("JWT",), typ_optional=True)
        payload = jws.payload
        settings = self._settings
        now = self._clock()
        # Clerk's verifyJwt order: sub, aud, azp, iss, then the time claims.
        jwt_claims.check_subject(payload)
        jwt_claims.check_audience(payload, settings.audience)
        jwt_claims.check_authorized_party(payload, settings.authorized_parties)
        jwt_claims.check_issuer(payload, settings.issuer)
        exp = jwt_claims.check_times(payload, now, settings.clock_skew)
        return Verified(
            session_auth_from_claims(payload),
            cache_until(exp, now),
            kid=kid_of(jws),
            compact=jws.payload_raw or None,
        )

    async def _resolve_kid(self, kid: object) -> VerificationKey:
        try:
            return await self._resolve_key(kid)
        except TokenVerificationError as exc:
            if exc.reason != Reason.TOKEN_INVALID:
                raise
            # A missing or unusable kid: Clerk looks it up and reports no matching key.
            raise TokenVerificationError(Reason.JWK_KID_MISMATCH, exc.message) from None


KIND = TokenKind(
    name="session_token",
    principal=SessionAuth,
    scheme_name="ClerkSession",
    cookie=True,
    bearer_format="JWT",
    description=(
        "A Clerk session token: the short-lived RS256 JWT your frontend gets from "
        "`getToken()`, sent as `Authorization: Bearer <token>`."
    ),
    scoped=False,
    from_compact=lambda raw: session_auth_from_claims(json.loads(raw)),
)


def build(ctx: KindContext, http: BackendHTTP) -> Built:
    """Networkless: no Backend API client."""
    return Built(SessionVerifier(ctx.settings, ctx.resolve_key, ctx.clock))


BUILTIN = Builtin(KIND, build)
