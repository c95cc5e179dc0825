"""``Clerk``: the composition root. It builds and wires settings, one pooled HTTP client, the
JWKS, the caches, the token kinds and the Backend API clients; it knows nothing of FastAPI."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx

from clerk_fastapi.auth.authenticator import AcceptsArg, Authenticator
from clerk_fastapi.auth.credentials import Connection
from clerk_fastapi.auth.events import Hook, Observer
from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.backend.api_keys import APIKeys
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.m2m import M2MTokens
from clerk_fastapi.backend.oauth import OAuthTokens
from clerk_fastapi.cache import VerificationStore, make_store
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.jwks import JWKSStore
from clerk_fastapi.kinds import KindRegistry, api_key, m2m, oauth, session
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.settings import ClerkSettings


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
        self.registry = KindRegistry()
        self.store: VerificationStore = make_store(
            settings, clock, lambda: self.registry.principal_models
        )
        ctx = KindContext(settings, clock, self.jwks.get_key, self.store)

        # One verifier per kind; the Backend API clients verify through the same ones.
        m2m_verifier = m2m.M2MVerifier(ctx, M2MTokens(self.http, settings))
        oauth_verifier = oauth.OAuthVerifier(ctx, OAuthTokens(self.http, settings))
        api_key_verifier = api_key.APIKeyVerifier(ctx, APIKeys(self.http, settings))
        self.registry.add(
            session.KIND, session.SessionVerifier(settings, ctx.resolve_key, clock), builtin=True
        )
        self.registry.add(m2m.KIND, m2m_verifier, builtin=True)
        self.registry.add(oauth.KIND, oauth_verifier, builtin=True)
        self.registry.add(api_key.KIND, api_key_verifier, builtin=True)
        self.m2m = m2m.M2MClient(M2MTokens(self.http, settings), m2m_verifier)
        self.oauth_tokens = oauth.OAuthClient(OAuthTokens(self.http, settings), oauth_verifier)
        self.api_keys = api_key.APIKeysClient(APIKeys(self.http, settings), api_key_verifier)

        self.observer = Observer(on_authenticated, on_rejected)
        self.authenticator = Authenticator(
            settings, self.registry, clock, self.store, self.observer
        )

    # -- observability --------------------------------------------------------------------------

    @property
    def on_authenticated(self) -> Hook | None:
        """Called with an ``AuthEvent`` for every accepted request (sync or async)."""
        return self.observer.on_authenticated

    @on_authenticated.setter
    def on_authenticated(self, hook: Hook | None) -> None:
        self.observer.on_authenticated = hook

    @property
    def on_rejected(self) -> Hook | None:
        """Called with an ``AuthEvent`` for every refused request (sync or async)."""
        return self.observer.on_rejected

    @on_rejected.setter
    def on_rejected(self, hook: Hook | None) -> None:
        self.observer.on_rejected = hook

    # -- verification ---------------------------------------------------------------------------

    async def authenticate_request(
        self,
        request: Connection,
        accepts: AcceptsArg = "session_token",
        *,
        machine_secret_key: str | None = None,
    ) -> RequestState:
        """Authenticate a Starlette/FastAPI request or WebSocket; never raises for bad input.

        ``machine_secret_key`` verifies opaque M2M tokens with that machine's key instead of
        the configured one (Clerk's per-call ``machineSecretKey``).
        """
        return await self.authenticator.authenticate_request(
            request, accepts, machine_secret_key=machine_secret_key
        )

    async def authenticate_token(
        self,
        token: str,
        accepts: AcceptsArg = "session_token",
        *,
        machine_secret_key: str | None = None,
    ) -> RequestState:
        """Authenticate a bare token string with the same rules (``machine_secret_key`` as in
        ``authenticate_request``)."""
        return await self.authenticator.authenticate_token(
            token, accepts, machine_secret_key=machine_secret_key
        )

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
        """``FastAPI(lifespan=clerk.lifespan)``: attaches this instance to the app, warms the
        JWKS, closes the HTTP client on shutdown."""
        self.install(app)
        await self.warm_up()
        try:
            yield
        finally:
            await self.aclose()

    def install(self, app: Any) -> None:
        """Make this instance the one the app's ``Auth`` dependencies use.

        The FastAPI layer finishes the app's OpenAPI document from it when it is generated.
        """
        app.state.clerk = self

    def clear_caches(self) -> None:
        """Forget every cached verification result and the JWKS."""
        self.authenticator.clear()
        self.jwks.clear()

    def forget_token(self, token: str) -> None:
        """Drop one token's cached result (call it from a revocation webhook)."""
        self.authenticator.forget(token)

    def __repr__(self) -> str:
        return f"Clerk(api_url={self.settings.api_url!r})"
