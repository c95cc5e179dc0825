"""Backend API calls for API keys: create, get, update, delete, revoke, read the secret, verify
and list (instance secret key; no ``/v1``)."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import APIKey, APIKeySecret, DeletedObject, Page

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

    def _path(self, api_key_id: str, *rest: str) -> str:
        return "/".join(["/api_keys", _api.path_id(api_key_id), *rest])

    async def get(self, api_key_id: str) -> APIKey:
        """A key by its id (``ak_...``, not the secret); ``.secret`` is not in the answer."""
        data = await self._http.request("GET", self._path(api_key_id), secret=self._secret())
        return _api.resource(APIKey, data)

    async def update(
        self,
        api_key_id: str,
        *,
        subject: str,
        description: str | None = None,
        scopes: list[str] | None = None,
        claims: dict[str, Any] | None = None,
        seconds_until_expiration: int | None = None,
    ) -> APIKey:
        """Change a key's description, scopes, claims or expiry (what is left out is kept).

        ``subject`` is the key's owner; Clerk's SDK requires it on every update.
        """
        payload = _api.body(
            subject=subject,
            description=description,
            scopes=scopes,
            claims=claims,
            seconds_until_expiration=seconds_until_expiration,
        )
        data = await self._http.request(
            "PATCH", self._path(api_key_id), secret=self._secret(), json=payload
        )
        return _api.resource(APIKey, data)

    async def delete(self, api_key_id: str) -> DeletedObject:
        """Delete a key; the answer keeps its id (``deleted=True``)."""
        data = await self._http.request("DELETE", self._path(api_key_id), secret=self._secret())
        return _api.resource(DeletedObject, data)

    async def get_secret(self, api_key_id: str) -> APIKeySecret:
        """A key's secret (the credential itself): keep it out of logs."""
        data = await self._http.request(
            "GET", self._path(api_key_id, "secret"), secret=self._secret()
        )
        return _api.resource(APIKeySecret, data)

    async def revoke(self, api_key_id: str, *, revocation_reason: str | None = None) -> APIKey:
        """Revoke a key by its id (``ak_...``, not the secret): Clerk refuses it from then on."""
        data = await self._http.request(
            "POST",
            self._path(api_key_id, "revoke"),
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
