"""A fifth built-in type's Backend API module, written as ``clerk_fastapi/backend/pat.py``
would be (``tests/kinds/test_fifth_builtin.py`` also drops it into a copy of the package there):
its verify call and its resource model (a new type's resource lives with its calls)."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.backend import _api
from clerk_fastapi.backend.resources import Resource

VERIFY_PATH = "/personal_access_tokens/verify"
VERIFY_FIELD = "secret"


class PersonalAccessToken(Resource):
    """Clerk's answer for a personal access token (a hypothetical type: the shape of an API key)."""

    name: str | None = None


class PersonalAccessTokens(_api.BackendAPI):
    """Personal access tokens (instance secret key)."""

    async def request_verify(self, secret: str) -> Any:
        """``POST /personal_access_tokens/verify``: Clerk's raw answer."""
        return await self._http.request(
            "POST", VERIFY_PATH, secret=self._secret(), json={VERIFY_FIELD: secret}
        )
