"""M2M tokens: one of your services calling another (a Clerk machine).

Recognised by the ``mt_`` prefix or, as a JWT, by a ``sub`` that starts with ``mch_`` (checked
before OAuth, as in Clerk). A JWT is verified networklessly; an opaque token by
``POST /m2m_tokens/verify``. Both become an ``M2MToken`` resource through one mapper (Clerk's
``M2MToken.fromJwtPayload`` for JWTs), and the route's ``M2MAuth`` is built from that resource, so
a route and ``clerk.m2m.verify()`` cannot disagree.
"""

from __future__ import annotations

from typing import Any, Literal

from clerk_fastapi.backend import m2m as backend
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.m2m import M2MTokens
from clerk_fastapi.backend.resources import M2MToken
from clerk_fastapi.errors import ConfigurationError, Reason, TokenVerificationError
from clerk_fastapi.jose import claims as jwt_claims
from clerk_fastapi.jose.compact import CompactJWS, parse_compact
from clerk_fastapi.kinds import _jwt, _opaque
from clerk_fastapi.kinds.base import Credential, TokenKind
from clerk_fastapi.kinds.builtin import Built, Builtin
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.m2m_auth import ClerkM2MAuth
from clerk_fastapi.principals import M2MAuth, Verified

PREFIX = "mt_"
MACHINE_ID_PREFIX = "mch_"
NOT_FOUND = "Machine token not found"


KIND = TokenKind(
    name="m2m_token",
    principal=M2MAuth,
    prefixes=(PREFIX,),
    jwt_subject_prefix=MACHINE_ID_PREFIX,
    jwt_rank=10,
    verify_path=backend.VERIFY_PATH,
    verify_field=backend.VERIFY_FIELD,
    not_found=NOT_FOUND,
    scheme_name="ClerkM2M",
    bearer_format="mt_... or JWT",
    description=(
        "A machine-to-machine token from another of your services: opaque `mt_...` or a JWT "
        "whose `sub` is the calling machine (`mch_...`)."
    ),
)


def m2m_token_from_jwt(payload: dict[str, Any]) -> M2MToken:
    """Clerk's ``M2MToken.fromJwtPayload``; call it only after the JWT was verified.

    Scopes come from a space-separated ``scopes`` claim, else from ``aud`` (always a list here:
    Clerk passes a string ``aud`` through as a bare string).
    """
    if isinstance(payload.get("scopes"), str):
        scopes = _jwt.split_scopes(payload["scopes"])
    else:
        aud = payload.get("aud")
        if isinstance(aud, str):
            scopes = [aud] if aud else []
        elif isinstance(aud, list):
            scopes = [item for item in aud if isinstance(item, str)]
        else:
            scopes = []
    return M2MToken(
        object="machine_to_machine_token",
        id=_jwt.string(payload, "jti"),
        subject=_jwt.string(payload, "sub"),
        scopes=scopes,
        claims=_jwt.custom_claims(payload),
        revoked=False,
        # A verified JWT is within its lifetime (Clerk's exp <= now - skew is false here).
        expired=False,
        **_jwt.jwt_times(payload),
    )


def principal_from_resource(resource: M2MToken, receiver: str | None = None) -> M2MAuth:
    """``receiver``: this service's own machine id, when configured. A token's scopes are the
    machines its caller may talk to, so ``receiver in scopes`` says whether the caller was
    allowed to call *this* machine (Clerk does not document whether its verify endpoint checks
    that itself when called with the receiver's machine secret key)."""
    return M2MAuth(
        id=resource.id,
        subject=resource.subject,
        machine_id=resource.subject,
        scopes=resource.scopes,
        claims=resource.claims,
        expiration=resource.expiration_datetime,
        scoped_to_receiver=None if receiver is None else receiver in resource.scopes,
    )


class M2MVerifier:
    """Verifies M2M tokens for routes (``verify``) and for ``clerk.m2m.verify`` (``resource``)."""

    def __init__(self, ctx: KindContext, api: M2MTokens) -> None:
        self._ctx = ctx
        self._api = api
        self.clock = ctx.clock
        self._policy = _opaque.OpaquePolicy.for_kind(KIND, ctx)

    async def _verify_jwt(self, jws: CompactJWS) -> tuple[M2MToken, float | int]:
        category = jws.header.get("cat")
        if category is not None and category != _jwt.CATEGORY_M2M:
            # Checked before any key lookup, as in Clerk.
            raise TokenVerificationError(Reason.TOKEN_INVALID, "Invalid M2M JWT category.")
        exp = await _jwt.verify_machine_jwt(
            jws,
            self._ctx.resolve_key,
            allowed_typ=("JWT",),
            typ_optional=True,
            now=self._ctx.clock(),
            skew=self._ctx.settings.clock_skew,
            # Clerk's lenient rule for M2M JWTs: aud is checked only when the token has one.
            extra_checks=lambda payload: jwt_claims.check_audience_lenient(
                payload, self._ctx.settings.audience
            ),
        )
        return m2m_token_from_jwt(jws.payload), exp

    async def _fetch(self, token: str, machine_secret_key: str | None) -> M2MToken:
        return await _opaque.read_answer(
            self._api.request_verify(token, machine_secret_key=machine_secret_key),
            M2MToken,
            NOT_FOUND,
        )

    async def resource(
        self, token: str, *, machine_secret_key: str | None = None, client: str | None = None
    ) -> M2MToken:
        """The verified token as Clerk's resource; raises ``TokenVerificationError``. An opaque
        token is counted against ``client``'s budget like a route's verification."""
        if token.count(".") == 2:
            jws = parse_compact(token)
            if not KIND.recognises_jwt(jws):
                # Never send another kind of JWT (a user's session) to the M2M endpoint.
                raise TokenVerificationError(Reason.TOKEN_INVALID, "Not an M2M token.")
            resource, _ = await self._verify_jwt(jws)
            return resource
        return await self._policy.direct(
            token, client, lambda: self._fetch(token, machine_secret_key), "m2m_token"
        )

    async def verify(self, credential: Credential) -> Verified:
        if credential.jws is not None:
            resource, exp = await self._verify_jwt(credential.jws)
            return Verified(
                principal_from_resource(resource, self._ctx.settings.machine_id),
                _jwt.cache_until(exp, self._ctx.clock()),
                kid=_jwt.kid_of(credential.jws),
            )

        async def fetch() -> Verified:
            resource = await self._fetch(credential.token, credential.machine_secret_key)
            return self._policy.verified(
                principal_from_resource(resource, self._ctx.settings.machine_id),
                resource.expiration,
            )

        return await self._policy.verify(credential, fetch, "M2M token")


class M2MClient(M2MTokens):
    """``clerk.m2m``: create, verify, revoke and list machine-to-machine tokens.

    Every call authenticates with the per-call ``machine_secret_key``, else
    ``CLERK_MACHINE_SECRET_KEY``, else ``CLERK_SECRET_KEY`` (Clerk's order). Clerk lets only a
    machine secret key create tokens; the instance secret key may verify, list and revoke them.
    """

    def __init__(self, api: M2MTokens, verifier: M2MVerifier) -> None:
        super().__init__(api._http, api._settings)
        self._verifier = verifier

    async def verify(
        self, token: str, *, machine_secret_key: str | None = None, client: str | None = None
    ) -> M2MToken:
        """Verify a token: an M2M JWT locally (JWKS, no Backend API call), an opaque one with
        Clerk (``POST /m2m_tokens/verify``).

        Raises ``TokenVerificationError`` when the token is not valid (unknown, revoked,
        expired, bad signature, not an M2M token), and ``UpstreamError`` when ``client``'s
        budget (``None``: the shared no-client bucket) or the fleet-wide rate limit is spent.
        """
        return await self._verifier.resource(
            token, machine_secret_key=machine_secret_key, client=client
        )

    def auth(
        self,
        *,
        seconds_until_expiration: int | None = None,
        claims: dict[str, Any] | None = None,
        token_format: Literal["opaque", "jwt"] = "opaque",  # noqa: S107 (not a secret)
        min_remaining_ttl_seconds: int | None = None,
        machine_secret_key: str | None = None,
        renew_before: float = 60.0,
        plain_http_inside_private_network: bool = False,
    ) -> ClerkM2MAuth:
        """An ``httpx.Auth`` for calling your other services:
        ``httpx.AsyncClient(auth=clerk.m2m.auth())``.

        It creates this machine's M2M token on first use (with ``machine_secret_key``, else
        ``CLERK_MACHINE_SECRET_KEY``), renews it shortly before it expires, once for all
        concurrent requests, and after a 401 from the target renews once and retries once;
        when a fresh token is refused too, 401s stop causing renewals for a while (5 s, doubling
        up to 60 s). The token goes only over https://, or plain http:// to a loopback host;
        ``plain_http_inside_private_network=True`` allows plain http:// to any host (only for a
        network nobody else can see into).
        """
        if machine_secret_key is None and self._settings.machine_secret_key is None:
            raise ConfigurationError(
                "Calling another service needs this machine's secret key: set "
                "CLERK_MACHINE_SECRET_KEY or pass machine_secret_key."
            )
        return ClerkM2MAuth(
            self,
            seconds_until_expiration=seconds_until_expiration,
            claims=claims,
            token_format=token_format,
            min_remaining_ttl_seconds=min_remaining_ttl_seconds,
            machine_secret_key=machine_secret_key,
            renew_before=renew_before,
            clock=self._verifier.clock,
            plain_http_inside_private_network=plain_http_inside_private_network,
        )


def build(ctx: KindContext, http: BackendHTTP) -> Built:
    """The route verifier and ``clerk.m2m``, which verifies through it."""
    api = M2MTokens(http, ctx.settings)
    verifier = M2MVerifier(ctx, api)
    return Built(verifier, M2MClient(api, verifier))


BUILTIN = Builtin(KIND, build)
