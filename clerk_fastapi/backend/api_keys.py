"""Backend API calls for API keys: create, verify, revoke and list (instance secret key)."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import APIKey, Page

VERIFY_PATH = "/api_keys/verify"
VERIFY_FIELD = "secret"


class APIKeys(_api.BackendAPI):
    """API keys that users or organisations hold. Every call needs ``CLERK_SECRET_KEY``."""

    async def create(
        self,
        *,
        name: str,
        subject: str,
        description: str | None = None,
        scopes: list[str] | None = None,
        claims: dict[str, Any] | None = None,
        seconds_until_expiration: int | None = None,
        created_by: str | None = None,
    ) -> APIKey:
        """Create a key for ``subject`` (``user_...`` or ``org_...``).

        The returned ``.secret`` is the credential; Clerk shows it only in this answer.
        """
        payload = _api.body(
            name=name,
            subject=subject,
            description=description,
            scopes=scopes,
            claims=claims,
            seconds_until_expiration=seconds_until_expiration,
            created_by=created_by,
        )
        data = await self._http.request("POST", "/api_keys", secret=self._secret(), json=payload)
        return _api.resource(APIKey, data)

    async def revoke(self, api_key_id: str, *, revocation_reason: str | None = None) -> APIKey:
        """Revoke a key by its id (``ak_...``, not the secret): Clerk refuses it from then on."""
        data = await self._http.request(
            "POST",
            f"/api_keys/{_api.path_id(api_key_id)}/revoke",
            secret=self._secret(),
            json=_api.body(revocation_reason=revocation_reason),
        )
        return _api.resource(APIKey, data)

    async def request_verify(self, secret: str) -> Any:
        """``POST /api_keys/verify``: Clerk's raw answer (``clerk.api_keys.verify`` reads it)."""
        return await self._http.request(
            "POST", VERIFY_PATH, secret=self._secret(), json={VERIFY_FIELD: secret}
        )

    async def list(
        self,
        *,
        subject: str,
        include_invalid: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[APIKey]:
        """One page of a user's or organisation's keys; ``include_invalid=True`` adds revoked
        and expired ones (Clerk leaves them out by default)."""
        params = _api.query(
            subject=subject, include_invalid=include_invalid, limit=limit, offset=offset
        )
        data = await self._http.request("GET", "/api_keys", secret=self._secret(), params=params)
        return _api.page(APIKey, data, "data")
