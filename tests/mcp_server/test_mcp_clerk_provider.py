"""FastMCP's own ``ClerkProvider`` (an OAuth proxy) with this package verifying the upstream
Clerk tokens (``clerk_provider``), offline: the fake Clerk is the Frontend API FastMCP's
``ClerkTokenVerifier`` calls (``/oauth/token_info``, ``/oauth/userinfo``) and the authorization
server the proxy signs in with. The network calls per verification are counted on the fake."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("fastmcp")

import httpx
import httpx2
from fastapi import FastAPI
from fastmcp import Client, FastMCP
from fastmcp.client.auth import OAuth
from fastmcp.server.auth.providers.clerk import ClerkProvider, ClerkTokenVerifier
from fastmcp.server.dependencies import get_access_token
from key_value.aio.stores.memory import MemoryStore
from mcp.client.auth import AuthorizationCodeResult
from mcp_support import free_port

from clerk_fastapi.mcp import MCPResource
from clerk_fastapi.mcp.fastmcp import ClerkFastMCPVerifier, clerk_provider
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

pytestmark = pytest.mark.anyio
URL = "https://mcp.example.com/mcp"
REQUESTS = 5
# What each verifier calls at Clerk: the Frontend API (FastMCP's) or the Backend API (ours).
CLERK_CALLS = ("oauth_token_info", "oauth_userinfo", "oauth_verify", "jwks", "fapi_jwks")


def clerk_calls(fake: FakeClerk) -> int:
    return sum(fake.hits[name] for name in CLERK_CALLS)


async def calls_per_request(fake: FakeClerk, verify: Any, token: str) -> tuple[int, int]:
    """(calls made by the first verification, calls made by each of the next ones)."""
    fake.reset_counters()
    assert await verify(token) is not None
    first = clerk_calls(fake)
    for _ in range(REQUESTS):
        assert await verify(token) is not None
    later = clerk_calls(fake) - first
    assert later % REQUESTS == 0, later
    return first, later // REQUESTS


@pytest.mark.parametrize("form", ["jwt", "opaque"])
async def test_network_calls_per_request(form: Literal["jwt", "opaque"]) -> None:
    """FastMCP's ``ClerkTokenVerifier``: introspection + userinfo on every request, whatever
    the token. This package's: none for ``at+jwt`` (one JWKS fetch per process), one Backend
    API call per request for ``oat_`` with the cache off, one per token with it on."""
    fake = FakeClerk()
    client_id, secret = fake.register_oauth_client()
    token = fake.oauth_token(form, scopes=["profile"], client_id=client_id, aud=URL)

    theirs = ClerkTokenVerifier(
        domain=fake.frontend_api,
        client_id=client_id,
        client_secret=secret,
        required_scopes=["profile"],
        # https://<frontend api>/oauth/... reaches the fake in-process: no internet.
        http_client=httpx2.AsyncClient(transport=httpx2.ASGITransport(app=fake.app)),
    )
    # FastMCP's check is aud == the OAuth client id: an aud naming the resource fails it.
    assert await theirs.verify_token(token) is None
    token = fake.oauth_token(form, scopes=["profile"], client_id=client_id)
    measured = {"fastmcp": await calls_per_request(fake, theirs.verify_token, token)}
    for ttl in (0, 60):
        resource = MCPResource(
            fake.clerk(machine_token_cache_ttl=ttl),
            url=URL,
            scopes=["profile"],
            require_audience=False,  # the same audience-less token as FastMCP's
        )
        ours = ClerkFastMCPVerifier(resource)
        measured[f"ours ttl={ttl}"] = await calls_per_request(fake, ours.verify_token, token)

    if form == "jwt":
        assert measured == {
            "fastmcp": (2, 2),
            "ours ttl=0": (1, 0),  # the JWKS, once
            "ours ttl=60": (1, 0),
        }
    else:
        assert measured == {"fastmcp": (2, 2), "ours ttl=0": (1, 1), "ours ttl=60": (1, 0)}


class HeadlessOAuth(OAuth):
    """FastMCP's OAuth client without a browser: follows the proxy's redirects (the proxy's
    /authorize, Clerk's, the proxy's callback) until the one back to the client."""

    location = ""

    async def redirect_handler(self, authorization_url: str) -> None:
        location = authorization_url
        async with httpx.AsyncClient() as http:
            for _ in range(5):
                answer = await http.get(location)
                assert answer.status_code in (302, 303, 307), answer.text
                location = answer.headers["location"]
                if "code=" in location and "/auth/callback" not in location:
                    break
        self.location = location

    async def callback_handler(self) -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(self.location).query)
        return AuthorizationCodeResult(
            code=query["code"][0],
            state=query["state"][0],
            iss=next(iter(query.get("iss", [])), None),
        )


@contextlib.contextmanager
def proxied(fake: FakeClerk, **clerk_options: Any) -> Iterator[tuple[str, ClerkProvider]]:
    with fake.serve(frontend_api=True):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        clerk = fake.clerk(**clerk_options)
        # The Clerk OAuth application the proxy signs in with (dashboard: OAuth applications).
        client_id, secret = fake.register_oauth_client([f"{base}/auth/callback"])
        resource = MCPResource(clerk, url=f"{base}/mcp", scopes=["profile"])
        provider = clerk_provider(
            resource,
            client_id=client_id,
            client_secret=secret,
            client_storage=MemoryStore(),
            jwt_signing_key="test-signing-key-" + "x" * 16,
            require_authorization_consent=False,
        )
        # ClerkProvider builds https:// endpoints; the fake answers http on loopback.
        provider._upstream_authorization_endpoint = f"{fake.issuer}/oauth/authorize"
        provider._upstream_token_endpoint = f"{fake.issuer}/oauth/token"
        mcp = FastMCP("proxied", auth=provider)

        @mcp.tool
        async def whoami() -> dict[str, Any]:
            token = get_access_token()
            assert token is not None
            return {"user_id": token.subject, "scopes": token.scopes}

        mcp_app = mcp.http_app(path="/mcp")

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with clerk.lifespan(app), mcp_app.lifespan(app):
                yield

        app = FastAPI(lifespan=lifespan)
        app.mount("/", mcp_app)
        with serve_asgi(app, port=port, lifespan="on"):
            yield f"{base}/mcp", provider


@pytest.mark.parametrize("form", ["jwt", "opaque"])
async def test_the_proxy_flow_verifies_with_this_package(form: Literal["jwt", "opaque"]) -> None:
    """FastMCP's client signs in through the proxy (which signs in at Clerk with the client's
    ``resource`` forwarded, so the upstream token is bound to this server) and calls a tool
    three times: no Frontend API call at all; ``at+jwt`` costs nothing, ``oat_`` one Backend
    API call (cache on) for the whole session."""
    fake = FakeClerk()
    fake.oauth_user_id = "user_proxied"
    fake.oauth_token_format = form
    with proxied(fake, machine_token_cache_ttl=60) as (url, provider):
        assert isinstance(provider, ClerkProvider)
        fake.reset_counters()
        async with Client(url, auth=HeadlessOAuth()) as client:
            for _ in range(3):
                result = await client.call_tool("whoami", {})
        assert result.data == {"user_id": "user_proxied", "scopes": ["profile"]}
        assert fake.hits["oauth_token_info"] == fake.hits["oauth_userinfo"] == 0
        assert fake.hits["oauth_verify"] == (0 if form == "jwt" else 1)


async def test_the_provider_refuses_what_the_resource_refuses() -> None:
    fake = FakeClerk()
    resource = MCPResource(fake.clerk(), url=URL, scopes=["profile"])
    provider = clerk_provider(
        resource, client_id="cid", client_secret="secret", client_storage=MemoryStore()
    )
    verifier = provider._token_validator
    assert isinstance(verifier, ClerkFastMCPVerifier)
    assert verifier.required_scopes == ["profile"]
    good = fake.oauth_token("jwt", scopes=["profile"], aud=URL)
    assert await verifier.verify_token(good) is not None
    for bad in (
        fake.oauth_token("jwt", scopes=["profile"], aud="https://other.example/mcp"),
        fake.session_token(),
        fake.m2m_token("jwt", scopes=["profile"]),
    ):
        assert await verifier.verify_token(bad) is None
    with pytest.raises(TypeError):
        clerk_provider(resource, client_id="cid", domain="x")
    with pytest.raises(ValueError, match="forward_resource"):
        clerk_provider(resource, client_id="cid", client_secret="s", forward_resource=False)
