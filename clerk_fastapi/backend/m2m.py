"""Backend API calls for machine-to-machine tokens: create, verify, revoke and list."""

from __future__ import annotations

from typing import Any, Literal

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import M2MToken, Page

VERIFY_PATH = "/m2m_tokens/verify"
VERIFY_FIELD = "token"


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

    async def request_verify(self, token: str, *, machine_secret_key: str | None = None) -> Any:
        """``POST /m2m_tokens/verify``: Clerk's raw answer (``clerk.m2m.verify`` reads it)."""
        return await self._http.request(
            "POST",
            VERIFY_PATH,
            secret=self._machine_secret(machine_secret_key),
            json={VERIFY_FIELD: token},
        )

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
