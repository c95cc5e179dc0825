"""``FakeClerk``: an in-memory Clerk instance for tests and the demo.

It signs tokens of every type with Clerk's exact shapes (``minting``), serves the JWKS and the
Backend API endpoints the package calls (``api``), keeps machines with secret keys and scopes
(``machines``; its docstring says where Clerk's behaviour is not documented and what the fake
does), counts hits per endpoint and injects faults (``faults``). It is an ASGI app: use it
in-process (``fake.clerk()`` routes the ``Clerk`` under test to it with no socket) or on a
real port (``fake.serve()``, ``python -m clerk_fastapi.testing serve``; ``server.serve_asgi``
runs any app the same way).
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Literal

import httpx
from starlette.applications import Starlette

from clerk_fastapi.configure import settings_from
from clerk_fastapi.fastapi_auth.app import FastAPIClerk
from clerk_fastapi.httpx_compat import ASGITransport
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.testing.fake._common import TokenStore, random_text
from clerk_fastapi.testing.fake.api import BackendAPI
from clerk_fastapi.testing.fake.control import control_routes
from clerk_fastapi.testing.fake.faults import Fault, FaultMode, RecordedRequest
from clerk_fastapi.testing.fake.frontend import FrontendGuard
from clerk_fastapi.testing.fake.machines import FakeMachine
from clerk_fastapi.testing.fake.server import serve_asgi
from clerk_fastapi.testing.fake.webhooks import WebhookDelivery, WebhookSender
from clerk_fastapi.testing.keys import SigningKey

Endpoint = Literal[
    "jwks",
    "m2m_verify",
    "api_key_verify",
    "oauth_verify",
    "m2m_create",
    "m2m_list",
    "m2m_revoke",
    "api_key_create",
    "api_key_list",
    "api_key_revoke",
    "api_key_get",
    "api_key_update",
    "api_key_delete",
    "api_key_secret",
    "as_metadata",
    "fapi_jwks",
    "oauth_register",
    "oauth_authorize",
    "oauth_token",
    "oauth_token_info",
    "oauth_userinfo",
    "machine_list",
    "machine_create",
    "machine_get",
    "machine_update",
    "machine_delete",
    "machine_secret_key",
    "machine_rotate",
    "machine_scope_create",
    "machine_scope_delete",
]

__all__ = [
    "Endpoint",
    "FakeClerk",
    "FakeMachine",
    "Fault",
    "RecordedRequest",
    "WebhookDelivery",
    "serve_asgi",
]


class FakeClerk(BackendAPI, WebhookSender):
    """A complete stand-in for one Clerk instance.

    ``clock`` (a callable like ``time.time``, e.g. ``FrozenClock``) dates every minted token and
    every expiry check; ``fake.clerk()`` shares it with the ``Clerk`` under test.
    """

    API_HOST = "clerk-api.localhost"

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        kid: str = "ins_test1",
        frontend_api: str = "clerk.fake-clerk.test",
        authorized_party: str = "https://app.test",
        signing_key: SigningKey | None = None,
        key_pool_index: int | None = 0,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.frontend_api = frontend_api
        self.issuer = f"https://{frontend_api}"
        self.authorized_party = authorized_party
        self.secret_key = "sk_test_" + random_text(40)
        self.publishable_key = _publishable_key(frontend_api)
        self.instance_id = kid
        self.signing_key = signing_key or SigningKey.generate(kid, pool_index=key_pool_index)
        self.keys: list[SigningKey] = [self.signing_key]
        self.jwks_override: Any = None
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.faults: dict[str, Fault] = {}
        self.api_url = f"http://{self.API_HOST}"
        TokenStore.__init__(self)
        self._init_frontend()
        # A "Default machine" (default_machine_id, machine_secret_key), and any you add.
        self._init_machines()
        self.app = Starlette(routes=[*self._routes(), *control_routes(self)])

    # -- keys -----------------------------------------------------------------------------------

    def jwks(self) -> Any:
        if self.jwks_override is not None:
            return self.jwks_override
        return {"keys": [key.public_jwk() for key in self.keys]}

    def rotate_key(self, *, keep_old: bool = True, pool_index: int | None = None) -> SigningKey:
        """Add a new signing key (new ``kid``) and sign with it from now on."""
        new = SigningKey.generate(f"ins_{random_text(27)}", pool_index=pool_index)
        self.keys = [*self.keys, new] if keep_old else [new]
        self.signing_key = new
        return new

    # -- faults and counters --------------------------------------------------------------------

    def fail(
        self,
        endpoint: Endpoint | Literal["*"],
        mode: FaultMode = "status",
        *,
        status: int = 500,
        delay: float = 0.0,
        retry_after: float | None = None,
        times: int | None = None,
    ) -> None:
        """Make an endpoint misbehave: ``down`` (connection error), ``slow`` (``delay`` seconds,
        then a normal answer), ``status`` (e.g. 429 with ``retry_after``, 500), ``malformed``
        (a 200 whose body is not JSON). ``times`` limits it to the next N requests."""
        self.faults[endpoint] = Fault(mode, status, delay, retry_after, times)

    def heal(self, endpoint: Endpoint | Literal["*"] | None = None) -> None:
        if endpoint is None:
            self.faults.clear()
        else:
            self.faults.pop(endpoint, None)

    def reset_counters(self) -> None:
        self.hits.clear()
        self.requests.clear()

    # -- wiring ---------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport to this fake for an ``httpx`` or an ``httpx2`` async client
        (``Clerk(transport=...)``, ``httpx2.AsyncClient(transport=...)``)."""
        return ASGITransport(self.app)

    def settings(self, **overrides: Any) -> ClerkSettings:
        values: dict[str, Any] = {
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "api_url": self.api_url,
        }
        if self.issuer != f"https://{self.frontend_api}":
            # Served as a loopback Frontend API (http): the issuer is not derivable from the key.
            values["issuer"] = self.issuer
        values.update(overrides)
        return settings_from(None, None, values, where="fake.settings()")

    def clerk(self, **overrides: Any) -> FastAPIClerk:
        """A ``Clerk`` wired to this fake in-process (no socket), sharing its clock."""
        transport = None if overrides.pop("use_network", False) else self.transport()
        return FastAPIClerk(self.settings(**overrides), transport=transport, clock=self.clock)

    @contextlib.contextmanager
    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, frontend_api: bool = False
    ) -> Iterator[str]:
        """Run on a real loopback port (uvicorn in a thread); yields the base URL.

        ``frontend_api=True``: the same server is also the instance's Frontend API, so an OAuth
        client can reach its authorization server (whose ``/oauth/authorize`` consents at
        once); it answers only requests whose ``Host`` is the served address. Without it the
        Frontend API paths answer 404. Inside the block ``issuer`` is the base URL
        (``http://127.0.0.1:PORT``) and ``frontend_api``/``publishable_key`` name it: mint tokens
        and build ``fake.clerk()`` inside the block.
        """
        previous = (self.api_url, self.issuer, self.frontend_api, self.publishable_key)
        guard = FrontendGuard(self.app)  # the OAuth endpoints only when asked, to our Host
        with serve_asgi(guard, host, port) as url:
            self.api_url = url
            if frontend_api:
                guard.allow(url)
                self.issuer = url
                self.frontend_api = url.removeprefix("http://")
                self.publishable_key = _publishable_key(self.frontend_api)
            try:
                yield url
            finally:
                self.api_url, self.issuer, self.frontend_api, self.publishable_key = previous


def _publishable_key(frontend_api: str) -> str:
    return "pk_test_" + base64.b64encode(f"{frontend_api}$".encode()).decode().rstrip("=")
