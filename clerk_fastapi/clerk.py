"""``Clerk``: the composition root. It builds and wires settings, one pooled HTTP client, the
JWKS, the caches, the token kinds and the Backend API clients; it knows nothing of FastAPI."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import anyio
import httpx

from clerk_fastapi.auth.authenticator import AcceptsArg, Authenticator
from clerk_fastapi.auth.credentials import Connection
from clerk_fastapi.auth.events import Hook, Observer
from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.machines import Machines
from clerk_fastapi.cache import VerificationStore, make_store
from clerk_fastapi.cache.policy import CallPolicy
from clerk_fastapi.configure import missing_key_error, settings_from
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.jwks import JWKSStore
from clerk_fastapi.kinds import BUILTINS, SESSION_TOKEN, Builtin, KindRegistry
from clerk_fastapi.kinds._budget import ClientBudget
from clerk_fastapi.kinds.api_key import APIKeysClient
from clerk_fastapi.kinds.builtin import client_of
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.kinds.m2m import M2MClient
from clerk_fastapi.kinds.oauth import OAuthClient
from clerk_fastapi.settings import ClerkSettings, mask_url

logger = logging.getLogger("clerk_fastapi")


class Clerk:
    """One Clerk instance's verification machinery.

    ``Clerk()`` reads ``CLERK_*`` environment variables (and ``env_file``, a ``.env`` file, when
    given; the environment wins); pass ``settings`` (or keyword overrides) to configure it in
    code. ``transport`` routes every HTTP call (for example to an in-process
    fake), ``clock`` replaces ``time.time`` (tests freeze it).
    """

    # Clerk's own token types (kinds.BUILTINS), each built and registered by every instance.
    _builtins: ClassVar[tuple[Builtin, ...]] = BUILTINS

    def __init__(
        self,
        settings: ClerkSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_authenticated: Hook | None = None,
        on_rejected: Hook | None = None,
        env_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> None:
        # Every mistake (a malformed key, an unknown keyword, an unsupported URL) is one
        # ConfigurationError here, when the instance is built.
        settings = settings_from(settings, env_file, overrides)
        # Without a key the instance is built but refuses to start or verify (``check()``), as
        # Clerk's own SDK does: a module-level ``clerk = Clerk()`` can then be imported by tests
        # that swap it for a fake, and a server without the key still fails loudly at start-up.
        # A caller-only service (only CLERK_MACHINE_SECRET_KEY) starts: it verifies nothing.
        self._missing_key: ConfigurationError | None = missing_key_error(settings)
        if settings.session_cookie and not settings.authorized_parties:
            logger.warning(
                "CLERK_SESSION_COOKIE is on but CLERK_AUTHORIZED_PARTIES is empty: any website "
                "a signed-in user visits can send requests (and open WebSockets) that carry the "
                "__session cookie, and they are accepted from every Origin. Set "
                "CLERK_AUTHORIZED_PARTIES to your frontend origins."
            )
        self.settings = settings
        self.clock = clock
        self.http = BackendHTTP(settings, transport=transport)
        self.jwks = JWKSStore(settings, self.http, clock)
        self.registry = KindRegistry()
        self.store: VerificationStore = make_store(
            settings,
            clock,
            lambda: self.registry.principal_models,
            self.jwks.trusts,
            self.registry.rebuild,
        )
        self.jwks.on_withdrawn = self.store.forget_kids
        self.budget = ClientBudget(settings, clock, self.store)
        self.calls = CallPolicy(self.store, settings, clock)
        ctx = KindContext(settings, clock, self.jwks.get_key, self.store, self.budget, self.calls)

        # One verifier per kind; a type's Backend API client verifies through the same one.
        clients: list[object] = []
        for builtin in self._builtins:
            built = builtin.build(ctx, self.http)
            self.registry.add(builtin.kind, built.verifier, builtin=True)
            if built.client is not None:
                clients.append(built.client)
        self._clients = tuple(clients)
        self.m2m = client_of(clients, M2MClient)
        self.oauth_tokens = client_of(clients, OAuthClient)
        self.api_keys = client_of(clients, APIKeysClient)
        self.machines = Machines(self.http, settings)

        self.observer = Observer(on_authenticated, on_rejected)
        self.authenticator = Authenticator(
            settings, self.registry, clock, self.store, self.observer
        )
        # OpenTelemetry (the otel extra), when CLERK_TELEMETRY is on: docs/telemetry.md.
        self.telemetry: Any = None
        if settings.telemetry:
            from clerk_fastapi.telemetry import available, instrument

            if not available():
                raise ConfigurationError(
                    "CLERK_TELEMETRY needs the otel extra: pip install 'clerk-fastapi[otel]'"
                )
            self.telemetry = instrument(self)

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

    def check(self) -> None:
        """Raise ``ConfigurationError`` if this instance cannot verify anything (no
        ``CLERK_SECRET_KEY`` and no ``CLERK_JWT_KEY``). Start-up and every verification call it."""
        if self._missing_key is not None:
            raise self._missing_key

    async def authenticate_request(
        self,
        request: Connection,
        accepts: AcceptsArg = SESSION_TOKEN,
        *,
        machine_secret_key: str | None = None,
    ) -> RequestState:
        """Authenticate a Starlette/FastAPI request or WebSocket; never raises for bad input
        (``ConfigurationError`` when the instance has no key: a deployment error).

        ``machine_secret_key`` verifies opaque M2M tokens with that machine's key instead of
        the configured one (Clerk's per-call ``machineSecretKey``). ``Auth`` calls this too.
        """
        if self._missing_key is not None:
            raise self._missing_key  # check(), without a call on every request
        return await self.authenticator.authenticate_request(
            request, accepts, machine_secret_key=machine_secret_key
        )

    async def authenticate_token(
        self,
        token: str,
        accepts: AcceptsArg = SESSION_TOKEN,
        *,
        machine_secret_key: str | None = None,
        client: str | None = None,
    ) -> RequestState:
        """Authenticate a bare token string with the same rules (``machine_secret_key`` as in
        ``authenticate_request``). ``client``: the address the token came from, for the
        per-client budget of Backend API calls (``None``: one shared bucket for every call
        without a client)."""
        if self._missing_key is not None:
            raise self._missing_key  # check(), without a call on every token
        return await self.authenticator.authenticate_token(
            token, accepts, machine_secret_key=machine_secret_key, client=client
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def check_startup(self) -> None:
        """What start-up requires: a key to verify with, or (a service that only calls others)
        the machine secret key ``clerk.m2m.auth()`` needs."""
        if self._missing_key is not None and self.settings.machine_secret_key is None:
            raise self._missing_key

    async def warm_up(self) -> None:
        """Load the JWKS, giving up after ``startup_timeout``; an unreachable Clerk never fails
        start-up (a missing key does: ``check_startup()``). A caller-only instance has no keys
        to load."""
        self.check_startup()
        if self._missing_key is not None:
            return
        with anyio.move_on_after(self.settings.startup_timeout) as scope:
            await self.store.warm_up()
            await self.jwks.warm_up()
        if scope.cancelled_caught:
            logger.warning(
                "JWKS warm-up from %s did not finish within CLERK_STARTUP_TIMEOUT (%s s); "
                "requests will retry. Check CLERK_API_URL, CLERK_HTTP_PROXY and the network.",
                self.jwks.url,
                self.settings.startup_timeout,
            )

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.store.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """``FastAPI(lifespan=clerk.lifespan)``: attaches this instance to the app, warms the
        JWKS, closes the HTTP client on shutdown. Without a key it fails start-up (with only
        CLERK_MACHINE_SECRET_KEY it starts: a service that calls others and verifies nothing)."""
        self.check_startup()
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
        self.budget.clear()
        self.calls.clear()

    def forget_token(self, token: str) -> None:
        """Drop one token's cached result (call it from a revocation webhook)."""
        self.authenticator.forget(token)

    def __repr__(self) -> str:
        return f"Clerk(api_url={mask_url(self.settings.api_url)!r})"
