"""A fifth built-in type's kind module, written as ``clerk_fastapi/kinds/pat.py`` would be, on
the pattern of ``kinds/api_key.py``: its record, principal, verifier, Backend API client and
``BUILTIN``. ``tests/kinds/test_fifth_builtin.py`` registers it as the four are registered (and
drops it into a copy of the package, where only its backend import line changes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.kinds import _opaque
from clerk_fastapi.kinds.base import Credential, TokenKind
from clerk_fastapi.kinds.builtin import Built, Builtin
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.principals import Verified, _MachinePrincipal
from tests.kinds.fifth import pat_api as backend

PREFIX = "pat_"
NOT_FOUND = "Personal access token not found"


class PATAuth(_MachinePrincipal):
    """A user's personal access token."""

    token_type: Literal["pat"] = "pat"
    name: str | None = Field(None, description="The token's name.")


KIND = TokenKind(
    name="pat",
    principal=PATAuth,
    prefixes=(PREFIX,),
    verify_path=backend.VERIFY_PATH,
    verify_field=backend.VERIFY_FIELD,
    not_found=NOT_FOUND,
    scheme_name="ClerkPAT",
    bearer_format="pat_...",
    description="A personal access token (`pat_...`). Scopes listed per operation are required.",
)


def principal_from_resource(resource: backend.PersonalAccessToken) -> PATAuth:
    return PATAuth(
        id=resource.id,
        subject=resource.subject,
        scopes=resource.scopes,
        claims=resource.claims,
        expiration=resource.expiration_datetime,
        name=resource.name,
    )


class PATVerifier:
    """Verifies personal access tokens for routes (``verify``) and the client (``resource``)."""

    def __init__(self, ctx: KindContext, api: backend.PersonalAccessTokens) -> None:
        self._api = api
        self._policy = _opaque.OpaquePolicy.for_kind(KIND, ctx)

    async def _fetch(self, secret: str) -> backend.PersonalAccessToken:
        return await _opaque.read_answer(
            self._api.request_verify(secret), backend.PersonalAccessToken, NOT_FOUND
        )

    async def resource(
        self, secret: str, *, client: str | None = None
    ) -> backend.PersonalAccessToken:
        return await self._policy.direct(secret, client, lambda: self._fetch(secret), KIND.name)

    async def verify(self, credential: Credential) -> Verified:
        async def fetch() -> Verified:
            resource = await self._fetch(credential.token)
            return self._policy.verified(principal_from_resource(resource), resource.expiration)

        return await self._policy.verify(credential, fetch, "personal access token")


class PATClient(backend.PersonalAccessTokens):
    """The type's Backend API client (a real type would make it a typed ``Clerk`` attribute)."""

    def __init__(self, api: backend.PersonalAccessTokens, verifier: PATVerifier) -> None:
        super().__init__(api._http, api._settings)
        self._verifier = verifier

    async def verify(
        self, secret: str, *, client: str | None = None
    ) -> backend.PersonalAccessToken:
        return await self._verifier.resource(secret, client=client)


def build(ctx: KindContext, http: BackendHTTP) -> Built:
    api = backend.PersonalAccessTokens(http, ctx.settings)
    verifier = PATVerifier(ctx, api)
    return Built(verifier, PATClient(api, verifier))


BUILTIN = Builtin(KIND, build)
