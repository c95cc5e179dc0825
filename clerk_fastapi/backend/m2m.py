"""``clerk.m2m``: create, verify, revoke and list machine-to-machine tokens."""

from __future__ import annotations

from typing import Any, Literal

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import M2MToken, Page
from clerk_fastapi.errors import Reason, TokenVerificationError
from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.tokens import classify

NOT_FOUND = "Machine token not found"


class M2MTokens(_api.BackendAPI):
    """Machine-to-machine tokens.

    Every call authenticates with the per-call ``machine_secret_key``, else
    ``CLERK_MACHINE_SECRET_KEY``, else ``CLERK_SECRET_KEY`` (Clerk's order). Clerk lets only a
    machine secret key create tokens; the instance secret key may verify, list and revoke them.
    """

    def _machine_secret(self, machine_secret_key: str | None) -> str | None:
        return machine_secret_key or self._settings.machine_secret()

    async def create(
        self,
        *,
        seconds_until_expiration: int | None = None,
        claims: dict[str, Any] | None = None,
        token_format: Literal["opaque", "jwt"] = "opaque",  # noqa: S107 (not a secret)
        min_remaining_ttl_seconds: int | None = None,
        machine_secret_key: str | None = None,
    ) -> M2MToken:
        """Create a token for the machine that owns the machine secret key.

        The returned ``.token`` is the credential to send (``Authorization: Bearer ...``); Clerk
        shows it only in this answer. ``seconds_until_expiration=None`` means no expiry for an
        opaque token. ``min_remaining_ttl_seconds`` lets Clerk hand back an existing opaque token
        that still has at least that long to live instead of minting a new one.
        """
        payload = {
            **_api.body(
                seconds_until_expiration=seconds_until_expiration,
                min_remaining_ttl_seconds=min_remaining_ttl_seconds,
            ),
            "claims": claims,
            "token_format": token_format,
        }
        data = await self._http.request(
            "POST", "/m2m_tokens", secret=self._machine_secret(machine_secret_key), json=payload
        )
        return _api.resource(M2MToken, data)

    async def revoke(
        self,
        m2m_token_id: str,
        *,
        revocation_reason: str | None = None,
        machine_secret_key: str | None = None,
    ) -> M2MToken:
        """Revoke an opaque token by its id (``mt_...``): Clerk refuses it from then on.

        JWT M2M tokens cannot be revoked: Clerk does not store them, they live until ``exp``.
        """
        data = await self._http.request(
            "POST",
            f"/m2m_tokens/{_api.path_id(m2m_token_id)}/revoke",
            secret=self._machine_secret(machine_secret_key),
            json=_api.body(revocation_reason=revocation_reason),
        )
        return _api.resource(M2MToken, data)

    async def verify(self, token: str, *, machine_secret_key: str | None = None) -> M2MToken:
        """Verify a token: an M2M JWT locally (JWKS, no Backend API call), an opaque one with
        Clerk (``POST /m2m_tokens/verify``).

        Raises ``TokenVerificationError`` when the token is not valid (unknown, revoked,
        expired, bad signature, not an M2M token).
        """
        credential = classify(token)
        if credential.jws is not None:
            if credential.token_type != "m2m_token":
                # Never send another kind of JWT (a user's session) to the M2M endpoint.
                raise TokenVerificationError(Reason.TOKEN_INVALID, "Not an M2M token.")
            await self._verify_jwt(token, "m2m_token")
            return m2m_token_from_jwt(token)
        data = await self._verify_call(
            "/m2m_tokens/verify",
            self._machine_secret(machine_secret_key),
            {"token": token},
            NOT_FOUND,
        )
        return _api.resource(M2MToken, data)

    async def list(
        self,
        *,
        subject: str,
        revoked: bool | None = None,
        expired: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        machine_secret_key: str | None = None,
    ) -> Page[M2MToken]:
        """One page of a machine's opaque tokens (Clerk does not store JWT ones).

        ``revoked=True`` / ``expired=True`` include revoked / expired tokens (Clerk's default
        leaves them out). With a machine secret key Clerk lists only that machine's tokens.
        """
        params = _api.query(
            subject=subject, revoked=revoked, expired=expired, limit=limit, offset=offset
        )
        data = await self._http.request(
            "GET", "/m2m_tokens", secret=self._machine_secret(machine_secret_key), params=params
        )
        return _api.page(M2MToken, data, "m2m_tokens")


def m2m_token_from_jwt(token: str) -> M2MToken:
    """Clerk's ``M2MToken.fromJwtPayload``; call it only after the JWT was verified."""
    payload = parse_compact(token).payload
    raw_scopes, aud = payload.get("scopes"), payload.get("aud")
    if isinstance(raw_scopes, str):
        # As the route's verifier does: no empty scope from "" or doubled spaces.
        scopes = [s for s in raw_scopes.split(" ") if s]
    elif isinstance(aud, list):
        scopes = [a for a in aud if isinstance(a, str)]
    else:
        scopes = []
    claims = {k: v for k, v in payload.items() if k not in _api.RESERVED_CLAIMS} or None
    return M2MToken(
        object="machine_to_machine_token",
        id=_api.string(payload, "jti"),
        subject=_api.string(payload, "sub"),
        scopes=scopes,
        claims=claims,
        revoked=False,
        # A verified JWT is within its lifetime (Clerk's exp <= now - skew is false here).
        expired=False,
        **_api.jwt_times(payload),
    )
