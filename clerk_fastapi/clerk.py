"""``Clerk``: settings, one pooled HTTP client, the JWKS, the caches and the verifiers."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import anyio
import httpx
from starlette.requests import HTTPConnection

from clerk_fastapi.backend.client import APIKeys, M2MTokens, OAuthTokens
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.cache import VerificationStore, make_store
from clerk_fastapi.core import Authenticator, RequestState
from clerk_fastapi.errors import (
    ConfigurationError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.jwks import JWKSStore
from clerk_fastapi.observability import Hook
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.tokens import Accepts
from clerk_fastapi.verifiers.jwt import M2MJWTVerifier, OAuthJWTVerifier, SessionTokenVerifier
from clerk_fastapi.verifiers.opaque import (
    API_KEY_KIND,
    M2M_KIND,
    OAUTH_KIND,
    MachineTokenVerifier,
    OpaqueTokenVerifier,
)
from clerk_fastapi.verifiers.registry import VerifierRegistry

logger = logging.getLogger("clerk_fastapi")


class Clerk:
    """One Clerk instance's verification machinery.

    ``Clerk()`` reads ``CLERK_*`` environment variables; pass ``settings`` (or keyword overrides)
    to configure it in code. ``transport`` routes every HTTP call (for example to an in-process
    fake), ``clock`` replaces ``time.time`` (tests freeze it).
    """

    def __init__(
        self,
        settings: ClerkSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_authenticated: Hook | None = None,
        on_rejected: Hook | None = None,
        **overrides: Any,
    ) -> None:
        if settings is None:
            settings = ClerkSettings(**overrides)
        elif overrides:
            settings = settings.model_copy(update=overrides)
            settings = ClerkSettings.model_validate(settings.model_dump())
        if settings.secret_key is None and settings.jwt_key is None:
            raise ConfigurationError(
                "Set CLERK_SECRET_KEY (from the Clerk dashboard), or CLERK_JWT_KEY (the PEM "
                "public key) for networkless session verification."
            )
        self.settings = settings
        self.clock = clock
        self.http = BackendHTTP(settings, transport=transport)
        self.jwks = JWKSStore(settings, self.http, clock)
        self.store: VerificationStore = make_store(settings, clock)
        self.registry = VerifierRegistry()
        self.session_verifier = SessionTokenVerifier(settings, self.jwks, clock)
        self.m2m_verifier = MachineTokenVerifier(
            M2MJWTVerifier(settings, self.jwks, clock),
            OpaqueTokenVerifier(M2M_KIND, settings, self.http, clock, self.store),
        )
        self.oauth_verifier = MachineTokenVerifier(
            OAuthJWTVerifier(settings, self.jwks, clock),
            OpaqueTokenVerifier(OAUTH_KIND, settings, self.http, clock, self.store),
        )
        self.api_key_verifier = OpaqueTokenVerifier(
            API_KEY_KIND, settings, self.http, clock, self.store
        )
        self.registry.register("session_token", self.session_verifier)
        self.registry.register("m2m_token", self.m2m_verifier)
        self.registry.register("oauth_token", self.oauth_verifier)
        self.registry.register("api_key", self.api_key_verifier)
        self.authenticator = Authenticator(settings, self.registry, clock, self.store)
        # The machine-auth Backend API (create, verify, revoke, list).
        self.m2m = M2MTokens(self.http, settings, self._verify_jwt_locally)
        self.api_keys = APIKeys(self.http, settings, self._verify_jwt_locally)
        self.oauth_tokens = OAuthTokens(self.http, settings, self._verify_jwt_locally)
        self.authenticator.observer.on_authenticated = on_authenticated
        self.authenticator.observer.on_rejected = on_rejected

    # -- observability --------------------------------------------------------------------------

    @property
    def on_authenticated(self) -> Hook | None:
        """Called with an ``AuthEvent`` for every accepted request (sync or async)."""
        return self.authenticator.observer.on_authenticated

    @on_authenticated.setter
    def on_authenticated(self, hook: Hook | None) -> None:
        self.authenticator.observer.on_authenticated = hook

    @property
    def on_rejected(self) -> Hook | None:
        """Called with an ``AuthEvent`` for every refused request (sync or async)."""
        return self.authenticator.observer.on_rejected

    @on_rejected.setter
    def on_rejected(self, hook: Hook | None) -> None:
        self.authenticator.observer.on_rejected = hook

    # -- verification ---------------------------------------------------------------------------

    async def authenticate_request(
        self, request: HTTPConnection, accepts: str | Iterable[str] | Accepts = "session_token"
    ) -> RequestState:
        """Authenticate a Starlette/FastAPI request or WebSocket; never raises for bad input."""
        return await self.authenticator.authenticate_request(request, accepts)

    async def authenticate_token(
        self, token: str, accepts: str | Iterable[str] | Accepts = "session_token"
    ) -> RequestState:
        """Authenticate a bare token string with the same rules."""
        return await self.authenticator.authenticate_token(token, accepts)

    async def _verify_jwt_locally(self, token: str, token_type: str) -> None:
        state = await self.authenticator.authenticate_token(token, token_type)
        if state.error == "unavailable":
            raise UpstreamError(state.reason or Reason.UNEXPECTED_ERROR, state.message)
        if state.status != "signed-in":
            raise TokenVerificationError(state.reason or Reason.TOKEN_INVALID, state.message)

    # -- lifecycle ------------------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Load the JWKS, giving up after ``startup_timeout``; never fails start-up."""
        with anyio.move_on_after(self.settings.startup_timeout):
            await self.store.warm_up()
            await self.jwks.warm_up()

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.store.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """``FastAPI(lifespan=clerk.lifespan)``: registers this instance, warms the JWKS,
        closes the HTTP client on shutdown."""
        self.install(app)
        await self.warm_up()
        try:
            yield
        finally:
            await self.aclose()

    def install(self, app: Any) -> None:
        """Make this instance the app's ``get_clerk`` and finish its OpenAPI security schemes."""
        app.state.clerk = self
        from clerk_fastapi.fastapi_auth.openapi import install_openapi

        install_openapi(app, self)

    def clear_caches(self) -> None:
        """Forget every cached verification result and the JWKS."""
        self.authenticator.clear()
        self.jwks.clear()

    def forget_token(self, token: str) -> None:
        """Drop one token's cached result (call it from a revocation webhook)."""
        self.authenticator.forget(token)

    def __repr__(self) -> str:
        return f"Clerk(api_url={self.settings.api_url!r})"
