"""Backend API calls for OAuth access tokens that Clerk issued as an OAuth provider."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.backend import _api

VERIFY_PATH = "/oauth_applications/access_tokens/verify"
VERIFY_FIELD = "access_token"


class OAuthTokens(_api.BackendAPI):
    """OAuth access tokens held by third-party apps (instance secret key)."""

    async def request_verify(self, access_token: str) -> Any:
        """``POST /oauth_applications/access_tokens/verify``: Clerk's raw answer."""
        return await self._http.request(
            "POST", VERIFY_PATH, secret=self._secret(), json={VERIFY_FIELD: access_token}
        )
