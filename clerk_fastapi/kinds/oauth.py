"""OAuth access tokens: a third-party app acting for a user, with a token Clerk issued as an
OAuth provider.

Recognised by the ``oat_`` prefix or, as a JWT, by ``typ: at+jwt`` (after the M2M check, as in
Clerk). A JWT is verified networklessly; an opaque token by
``POST /oauth_applications/access_tokens/verify``. Both become an ``OAuthAccessToken`` resource
through one mapper, and the route's ``OAuthAuth`` is built from that resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clerk_fastapi.backend import oauth as backend
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.oauth import OAuthTokens
from clerk_fastapi.backend.resources import OAuthAccessToken
from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose.compact import CompactJWS, parse_compact
from clerk_fastapi.kinds import _jwt, _opaque
from clerk_fastapi.kinds.base import Credential, TokenKind
from clerk_fastapi.kinds.builtin import Built, Builtin
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.principals import OAuthAuth, Verified

PREFIX = "oat_"
JWT_TYPES = ("application/at+jwt", "at+jwt")
NOT_FOUND = "OAuth token not found"


KIND = TokenKind(
    name="oauth_token",
    principal=OAuthAuth,
    prefixes=(PREFIX,),
    jwt_types=JWT_TYPES,
    jwt_rank=20,
    verify_path=backend.VERIFY_PATH,
    verify_field=backend.VERIFY_FIELD,
    not_found=NOT_FOUND,
    scheme_name="ClerkOAuth",
    oauth2_flow=True,
    bearer_format="oat_... or JWT",
    description=(
        "An OAuth access token that Clerk issued to a third-party app a user authorised: "
        "opaque `oat_...` or a JWT with `typ: at+jwt`. Scopes listed per operation are required."
    ),
)


def check_oauth_audience(aud: Any, audience: Sequence[str]) -> None:
    """OAuth tokens (JWT and opaque): Clerk 3.25's ``assertOAuthAudienceClaim``: with an
    audience configured, ``aud`` is required, must be a non-empty list of non-empty strings (a
    string counts as a one-element list) and must share an entry with the configured list."""
    if not audience:
        return
    values = [aud] if isinstance(aud, str) and aud else aud if aud else None
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(item, str) and item for item in values)
    ):
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The OAuth token has no valid aud claim."
        )
    if not any(item in audience for item in values):
        raise TokenVerificationError(
            Reason.TOKEN_VERIFICATION_FAILED, "The OAuth token's aud is not an accepted audience."
        )


def _audience(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value] if value else None
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return None


def oauth_token_from_jwt(payload: dict[str, Any]) -> OAuthAccessToken:
    """Clerk's ``IdPOAuthAccessToken.fromJwtPayload``; call it only after verification.

    The ``scp`` array wins over the space-separated ``scope`` string (non-strings dropped).
    """
    scp = payload.get("scp")
    if isinstance(scp, list):
        scopes = [s for s in scp if isinstance(s, str)]
    else:
        scopes = _jwt.split_scopes(payload.get("scope"))
    return OAuthAccessToken(
        object="clerk_idp_oauth_access_token",
        id=_jwt.string(payload, "jti"),
        client_id=_jwt.string(payload, "client_id"),
        type="oauth_token",
        subject=_jwt.string(payload, "sub"),
        scopes=scopes,
        claims=_jwt.custom_claims(payload),
        aud=_audience(payload.get("aud")),
        revoked=False,
        expired=False,
        **_jwt.jwt_times(payload),
    )


def principal_from_resource(resource: OAuthAccessToken) -> OAuthAuth:
    return OAuthAuth(
        id=resource.id,
        subject=resource.subject,
        user_id=resource.subject,
        client_id=resource.client_id,
        scopes=resource.scopes,
        claims=resource.claims,
        expiration=resource.expiration_datetime,
        aud=resource.aud,
    )


class OAuthVerifier:
    """Verifies OAuth tokens for routes (``verify``) and ``clerk.oauth_tokens.verify``."""

    def __init__(self, ctx: KindContext, api: OAuthTokens) -> None:
        self._ctx = ctx
        self._api = api
        self._policy = _opaque.OpaquePolicy.for_kind(KIND, ctx)

    async def _verify_jwt(self, jws: CompactJWS) -> tuple[OAuthAccessToken, float | int]:
        exp = await _jwt.verify_machine_jwt(
            jws,
            self._ctx.resolve_key,
            allowed_typ=JWT_TYPES,
            typ_optional=False,
            now=self._ctx.clock(),
            skew=self._ctx.settings.clock_skew,
            # Clerk 3.25: with an audience configured, an OAuth JWT must carry a matching aud.
            extra_checks=lambda payload: check_oauth_audience(
                payload.get("aud"), self._ctx.settings.audience
            ),
        )
        return oauth_token_from_jwt(jws.payload), exp

    async def _fetch(self, token: str) -> OAuthAccessToken:
        return await _opaque.read_answer(
            self._api.request_verify(token), OAuthAccessToken, NOT_FOUND
        )

    async def resource(self, token: str, *, client: str | None = None) -> OAuthAccessToken:
        """The verified token as Clerk's resource; raises ``TokenVerificationError``. An opaque
        token is counted against ``client``'s budget like a route's verification."""
        if token.count(".") == 2:
            jws = parse_compact(token)
            if not KIND.recognises_jwt(jws):
                raise TokenVerificationError(Reason.TOKEN_INVALID, "Not an OAuth access token.")
            resource, _ = await self._verify_jwt(jws)
            return resource
        return await self._policy.direct(token, client, lambda: self._fetch(token), "oauth_token")

    async def verify(self, credential: Credential) -> Verified:
        if credential.jws is not None:
            resource, exp = await self._verify_jwt(credential.jws)
            return Verified(
                principal_from_resource(resource),
                _jwt.cache_until(exp, self._ctx.clock()),
                kid=_jwt.kid_of(credential.jws),
            )

        async def fetch() -> Verified:
            resource = await self._fetch(credential.token)
            # Clerk 3.25 checks the verify answer's aud against the configured audience.
            check_oauth_audience(resource.aud, self._ctx.settings.audience)
            return self._policy.verified(principal_from_resource(resource), resource.expiration)

        return await self._policy.verify(credential, fetch, "OAuth token")


class OAuthClient(OAuthTokens):
    """``clerk.oauth_tokens``: OAuth access tokens held by third-party apps."""

    def __init__(self, api: OAuthTokens, verifier: OAuthVerifier) -> None:
        super().__init__(api._http, api._settings)
        self._verifier = verifier

    async def verify(self, access_token: str, *, client: str | None = None) -> OAuthAccessToken:
        """Verify a JWT access token (``typ: at+jwt``) locally, an opaque ``oat_`` token with
        Clerk (``POST /oauth_applications/access_tokens/verify``, instance secret key).

        Raises ``TokenVerificationError`` when the token is not valid (unknown, revoked,
        expired, ``active: false``, bad signature, not an OAuth token), and ``UpstreamError``
        when ``client``'s budget (``None``: the shared no-client bucket) or the fleet-wide rate
        limit is spent.
        """
        return await self._verifier.resource(access_token, client=client)


def build(ctx: KindContext, http: BackendHTTP) -> Built:
    """The route verifier and ``clerk.oauth_tokens``, which verifies through it."""
    api = OAuthTokens(http, ctx.settings)
    verifier = OAuthVerifier(ctx, api)
    return Built(verifier, OAuthClient(api, verifier))


BUILTIN = Builtin(KIND, build)
