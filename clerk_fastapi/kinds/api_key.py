"""API keys: a user's or an organisation's script, with a key the user created in Clerk.

Recognised by the ``ak_`` prefix; verified by ``POST /api_keys/verify`` (instance secret key).
The answer becomes an ``APIKey`` resource, and the route's ``APIKeyAuth`` is built from it.
"""

from __future__ import annotations

from clerk_fastapi.backend import api_keys as backend
from clerk_fastapi.backend.api_keys import APIKeys
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.resources import APIKey
from clerk_fastapi.kinds import _opaque
from clerk_fastapi.kinds.base import Credential, TokenKind
from clerk_fastapi.kinds.builtin import Built, Builtin
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.principals import APIKeyAuth, Verified

PREFIX = "ak_"
NOT_FOUND = "API key not found"

KIND = TokenKind(
    name="api_key",
    principal=APIKeyAuth,
    prefixes=(PREFIX,),
    verify_path=backend.VERIFY_PATH,
    verify_field=backend.VERIFY_FIELD,
    not_found=NOT_FOUND,
    scheme_name="ClerkAPIKey",
    bearer_format="ak_...",
    description=(
        "An API key a user or organisation created in Clerk (`ak_...`). "
        "Scopes listed per operation are required."
    ),
)


def principal_from_resource(resource: APIKey) -> APIKeyAuth:
    subject = resource.subject
    return APIKeyAuth(
        id=resource.id,
        subject=subject,
        scopes=resource.scopes,
        claims=resource.claims,
        expiration=resource.expiration_datetime,
        name=resource.name,
        user_id=subject if subject.startswith("user_") else None,
        org_id=subject if subject.startswith("org_") else None,
    )


class APIKeyVerifier:
    """Verifies API keys for routes (``verify``) and ``clerk.api_keys.verify`` (``resource``)."""

    def __init__(self, ctx: KindContext, api: APIKeys) -> None:
        self._ctx = ctx
        self._api = api
        self._policy = _opaque.OpaquePolicy.for_kind(KIND, ctx)

    async def _fetch(self, secret: str) -> APIKey:
        return await _opaque.read_answer(self._api.request_verify(secret), APIKey, NOT_FOUND)

    async def resource(self, secret: str, *, client: str | None = None) -> APIKey:
        """The verified key as Clerk's resource; raises ``TokenVerificationError``. Counted
        against ``client``'s budget like a route's verification."""
        return await self._policy.direct(secret, client, lambda: self._fetch(secret), "api_key")

    async def verify(self, credential: Credential) -> Verified:
        async def fetch() -> Verified:
            resource = await self._fetch(credential.token)
            return self._policy.verified(principal_from_resource(resource), resource.expiration)

        return await self._policy.verify(credential, fetch, "API key")


class APIKeysClient(APIKeys):
    """``clerk.api_keys``: API keys that users or organisations hold (``CLERK_SECRET_KEY``)."""

    def __init__(self, api: APIKeys, verifier: APIKeyVerifier) -> None:
        super().__init__(api._http, api._settings)
        self._verifier = verifier

    async def verify(self, secret: str, *, client: str | None = None) -> APIKey:
        """Verify a key's secret with Clerk (``POST /api_keys/verify``).

        Raises ``TokenVerificationError`` when it is not valid (unknown, revoked, expired), and
        ``UpstreamError`` when ``client``'s budget (``None``: the shared no-client bucket) or
        the fleet-wide rate limit is spent: the same budgets a route's verification draws on.
        """
        return await self._verifier.resource(secret, client=client)


def build(ctx: KindContext, http: BackendHTTP) -> Built:
    """The route verifier and ``clerk.api_keys``, which verifies through it."""
    api = APIKeys(http, ctx.settings)
    verifier = APIKeyVerifier(ctx, api)
    return Built(verifier, APIKeysClient(api, verifier))


BUILTIN = Builtin(KIND, build)
