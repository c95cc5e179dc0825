"""End to end with the official MCP SDK (extra ``clerk-fastapi[mcp]``): an ``MCPServer`` mounted
in FastAPI on 127.0.0.1, its own streamable-HTTP client, the fake Clerk as the authorization
server (served on loopback so the client's discovery and sign-in run offline)."""

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip("mcp")

import httpx
import httpx2
from fastapi import FastAPI
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientMetadata
from mcp_support import Storage, free_port

from clerk_fastapi import Clerk
from clerk_fastapi.mcp import MCPResource
from clerk_fastapi.mcp.sdk import ClerkTokenVerifier, auth_settings
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

pytestmark = pytest.mark.anyio


def build_app(clerk: Clerk, url: str) -> tuple[FastAPI, MCPResource]:
    resource = MCPResource(
        clerk, url=url, scopes=["profile"], scopes_supported=["profile", "email"]
    )
    mcp = MCPServer(
        "clerk-demo", token_verifier=ClerkTokenVerifier(resource), auth=auth_settings(resource)
    )

    @mcp.tool()
    async def whoami() -> dict[str, Any]:
        token = get_access_token()
        assert token is not None
        return {"user_id": token.subject, "client_id": token.client_id, "scopes": token.scopes}

    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), mcp.session_manager.run():
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(resource.metadata_router())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/", mcp_app)
    return app, resource


@contextlib.contextmanager
def running(fake_clerk: FakeClerk, **clerk_options: Any) -> Iterator[tuple[str, MCPResource]]:
    """The fake Clerk (Backend and Frontend API) and the MCP app, each on a loopback port."""
    with fake_clerk.serve(frontend_api=True):
        port = free_port()
        app, resource = build_app(fake_clerk.clerk(**clerk_options), f"http://127.0.0.1:{port}/mcp")
        with serve_asgi(app, port=port, lifespan="on") as base:
            yield base, resource


async def call_whoami(url: str, token: str) -> dict[str, Any]:
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("whoami", {})
    assert not result.is_error, result
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


async def test_both_token_forms_call_a_tool(fake_clerk: FakeClerk) -> None:
    with running(fake_clerk) as (base, resource):
        url = f"{base}/mcp"
        for form in ("jwt", "opaque"):
            token = fake_clerk.oauth_token(
                form,
                scopes=["profile", "email"],
                user_id=f"user_{form}",
                client_id="cli_1",
                aud=url,
            )
            assert await call_whoami(url, token) == {
                "user_id": f"user_{form}",
                "client_id": "cli_1",
                "scopes": ["profile", "email"],
            }
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
            metadata = await http.get("/.well-known/oauth-protected-resource/mcp")
            assert metadata.json() == {
                "resource": url,
                "authorization_servers": [fake_clerk.issuer],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["profile", "email"],
            }
            assert resource.metadata() == metadata.json()


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


async def test_refused_tokens_and_session_binding(fake_clerk: FakeClerk) -> None:
    with running(fake_clerk) as (base, _):
        url = f"{base}/mcp"
        refused = {
            "other resource": fake_clerk.oauth_token(
                "jwt", scopes=["profile"], aud="https://x.test/mcp"
            ),
            "no audience": fake_clerk.oauth_token("jwt", scopes=["profile"]),
            "session": fake_clerk.session_token("user_a"),
            "m2m": fake_clerk.m2m_token("jwt", scopes=["profile"]),
            "opaque m2m": fake_clerk.m2m_token("opaque", scopes=["profile"]),
        }
        async with httpx.AsyncClient() as http:
            for name, token in refused.items():
                answer = await http.post(
                    url, json=INIT, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 401, name
                assert (
                    f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
                    in (answer.headers["www-authenticate"])
                )
            no_scope = fake_clerk.oauth_token("jwt", scopes=["email"], aud=url)
            answer = await http.post(
                url, json=INIT, headers={**MCP_HEADERS, "Authorization": f"Bearer {no_scope}"}
            )
            assert answer.status_code == 403
            assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]

            # User A opens a session; user B's valid token (same client) cannot continue it.
            token_a = fake_clerk.oauth_token("jwt", scopes=["profile"], user_id="user_a", aud=url)
            token_b = fake_clerk.oauth_token("jwt", scopes=["profile"], user_id="user_b", aud=url)
            opened = await http.post(
                url, json=INIT, headers={**MCP_HEADERS, "Authorization": f"Bearer {token_a}"}
            )
            assert opened.status_code == 200
            session_id = opened.headers["mcp-session-id"]
            listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
            as_b = await http.post(
                url,
                json=listing,
                headers={
                    **MCP_HEADERS,
                    "Authorization": f"Bearer {token_b}",
                    "Mcp-Session-Id": session_id,
                },
            )
            assert as_b.status_code == 404
            as_a = await http.post(
                url,
                json=listing,
                headers={
                    **MCP_HEADERS,
                    "Authorization": f"Bearer {token_a}",
                    "Mcp-Session-Id": session_id,
                },
            )
            assert as_a.status_code == 200
            assert "whoami" in as_a.text


async def test_clerk_unavailable_is_an_error_not_a_401(fake_clerk: FakeClerk) -> None:
    with running(fake_clerk) as (base, _):
        url = f"{base}/mcp"
        token = fake_clerk.oauth_token("opaque", scopes=["profile"], aud=url)
        fake_clerk.fail("oauth_verify", "down")
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                url, json=INIT, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}
            )
        # Inside the SDK a raised error is a 500; what matters is that it is not a 401, which
        # would make the client throw the (valid) token away.
        assert answer.status_code == 500


class CountRequests:
    """ASGI wrapper: how many HTTP requests reached the MCP endpoint."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/mcp":
            self.count += 1
        await self.app(scope, receive, send)


@pytest.mark.parametrize("ttl", [0, 60])
async def test_backend_api_calls_per_session(fake_clerk: FakeClerk, ttl: int) -> None:
    """One SDK client session: initialize, the initialized notification, tools/call and DELETE
    one after another, plus the GET stream alongside. With the opaque cache off every HTTP
    request verifies (concurrent ones may share a call); with it on, one call per session."""
    with fake_clerk.serve(frontend_api=True):
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        app, _ = build_app(fake_clerk.clerk(machine_token_cache_ttl=ttl), url)
        counted = CountRequests(app)
        with serve_asgi(counted, port=port, lifespan="on"):
            token = fake_clerk.oauth_token("opaque", scopes=["profile"], aud=url)
            fake_clerk.reset_counters()
            await call_whoami(url, token)
    calls = fake_clerk.hits["oauth_verify"]
    assert counted.count >= 4
    if ttl == 0:
        assert 4 <= calls <= counted.count
    else:
        assert calls == 1


@pytest.mark.parametrize("token_format", ["jwt", "opaque"])
async def test_sdk_client_discovers_and_signs_in(fake_clerk: FakeClerk, token_format: Any) -> None:
    """No token at first: the SDK client follows the 401 to the app's metadata (its own
    resource check passes), Clerk's (the fake's) AS metadata, registers, signs in with PKCE
    and ``resource``, and calls the tool with a token bound to this server."""
    fake_clerk.oauth_user_id = "user_signed_in"
    fake_clerk.oauth_token_format = token_format
    redirect = "http://127.0.0.1:1/callback"
    with running(fake_clerk) as (base, _):
        url = f"{base}/mcp"
        location: dict[str, str] = {}

        async def redirect_handler(authorization_url: str) -> None:
            async with httpx.AsyncClient() as http:
                answer = await http.get(authorization_url)  # the fake consents at once
            assert answer.status_code == 302
            location["url"] = answer.headers["location"]

        async def callback_handler() -> Any:
            from urllib.parse import parse_qs, urlsplit

            from mcp.client.auth import AuthorizationCodeResult

            query = parse_qs(urlsplit(location["url"]).query)
            return AuthorizationCodeResult(
                code=query["code"][0], state=query["state"][0], iss=query["iss"][0]
            )

        storage = Storage()
        auth = OAuthClientProvider(
            server_url=url,
            client_metadata=OAuthClientMetadata(
                client_name="test client",
                redirect_uris=[redirect],  # type: ignore[list-item]
                grant_types=["authorization_code"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )
        client = httpx2.AsyncClient(auth=auth, timeout=30)
        async with (
            client,
            streamable_http_client(url, http_client=client) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("whoami", {})
        assert json.loads(result.content[0].text) == {  # type: ignore[union-attr]
            "user_id": "user_signed_in",
            "client_id": storage.client.client_id if storage.client else None,
            "scopes": ["profile", "email"],
        }
        assert fake_clerk.hits["as_metadata"] == 1
        assert fake_clerk.hits["oauth_register"] == 1
        assert fake_clerk.hits["oauth_token"] == 1
        assert storage.tokens is not None
        # The token the client got is bound to this server (Clerk sets aud from `resource`).
        verified = await fake_clerk.clerk().oauth_tokens.verify(storage.tokens.access_token)
        assert verified.aud == [url]


def test_the_sdk_checks_the_resource_whenever_the_audience_is_required() -> None:
    """``validate_token_resource`` (``mcp`` 3.0's default) is on when ``aud`` must name the
    resource: the SDK's own check then runs too (the end-to-end tests above pass with it on,
    for JWT and opaque tokens); off only with ``require_audience=False``, where a token without
    ``aud`` has no resource to compare."""
    import warnings

    clerk = FakeClerk().clerk()
    strict = MCPResource(clerk, url="https://api.example.com/mcp", scopes=["profile"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no MCPDeprecationWarning about the unset flag
        assert auth_settings(strict).validate_token_resource is True
    lax = MCPResource(clerk, url="https://api.example.com/mcp", require_audience=False)
    assert auth_settings(lax).validate_token_resource is False
