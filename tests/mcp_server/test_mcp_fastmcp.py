"""End to end with FastMCP (extra ``clerk-fastapi[mcp]``): a FastMCP server with
``clerk_remote_auth`` mounted in FastAPI on 127.0.0.1 and FastMCP's own client, the fake Clerk as
the authorization server on loopback."""

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("fastmcp")

import httpx
from fastapi import FastAPI
from fastmcp import Client, FastMCP
from fastmcp.client.auth import BearerAuth, OAuth
from fastmcp.server.dependencies import get_access_token
from mcp.client.auth import AuthorizationCodeResult
from mcp_support import free_port

from clerk_fastapi import Clerk
from clerk_fastapi.mcp import MCPResource
from clerk_fastapi.mcp.fastmcp import ClerkFastMCPVerifier, clerk_remote_auth
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

pytestmark = pytest.mark.anyio


def build_app(clerk: Clerk, url: str) -> FastAPI:
    resource = MCPResource(
        clerk, url=url, scopes=["profile"], scopes_supported=["profile", "email"]
    )
    mcp = FastMCP("clerk-demo", auth=clerk_remote_auth(resource))

    @mcp.tool
    async def whoami() -> dict[str, Any]:
        token = get_access_token()
        assert token is not None
        return {"user_id": token.subject, "client_id": token.client_id, "scopes": token.scopes}

    mcp_app = mcp.http_app(path="/mcp")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), mcp_app.lifespan(app):
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(resource.metadata_router())
    app.mount("/", mcp_app)
    return app


@contextlib.contextmanager
def running(fake_clerk: FakeClerk) -> Iterator[str]:
    with fake_clerk.serve(frontend_api=True):
        port = free_port()
        app = build_app(fake_clerk.clerk(), f"http://127.0.0.1:{port}/mcp")
        with serve_asgi(app, port=port, lifespan="on") as base:
            yield base


async def whoami(url: str, auth: Any) -> dict[str, Any]:
    async with Client(url, auth=auth) as client:
        result = await client.call_tool("whoami", {})
    assert isinstance(result.data, dict)
    return result.data


async def test_both_token_forms_call_a_tool(fake_clerk: FakeClerk) -> None:
    with running(fake_clerk) as base:
        url = f"{base}/mcp"
        for form in ("jwt", "opaque"):
            token = fake_clerk.oauth_token(
                form, scopes=["profile"], user_id=f"user_{form}", client_id="cli_f", aud=url
            )
            assert await whoami(url, BearerAuth(token)) == {
                "user_id": f"user_{form}",
                "client_id": "cli_f",
                "scopes": ["profile"],
            }


async def test_challenges_and_refusals(fake_clerk: FakeClerk) -> None:
    with running(fake_clerk) as base:
        url = f"{base}/mcp"
        meta = f"{base}/.well-known/oauth-protected-resource/mcp"
        async with httpx.AsyncClient() as http:
            missing = await http.post(url, json={})
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"] == (
                f'Bearer scope="profile", resource_metadata="{meta}"'
            )
            document = (await http.get(meta)).json()
            assert document == {
                "resource": url,
                "authorization_servers": [fake_clerk.issuer],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["profile", "email"],
            }
            refused = {
                "other resource": fake_clerk.oauth_token(
                    "jwt", scopes=["profile"], aud="https://x/mcp"
                ),
                "session": fake_clerk.session_token("user_a"),
                "m2m": fake_clerk.m2m_token("jwt", scopes=["profile"]),
            }
            for name, token in refused.items():
                answer = await http.post(url, json={}, headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 401, name
        with pytest.raises(Exception, match="error response"):  # the client's words for a 401
            await whoami(url, BearerAuth(refused["session"]))


async def test_fastmcp_client_discovers_and_signs_in(fake_clerk: FakeClerk) -> None:
    fake_clerk.oauth_user_id = "user_oauth"

    class HeadlessOAuth(OAuth):
        """FastMCP's OAuth client without the browser and the callback server."""

        location = ""

        async def redirect_handler(self, authorization_url: str) -> None:
            async with httpx.AsyncClient() as http:
                answer = await http.get(authorization_url)
            assert answer.status_code == 302
            self.location = answer.headers["location"]

        async def callback_handler(self) -> AuthorizationCodeResult:
            query = parse_qs(urlsplit(self.location).query)
            return AuthorizationCodeResult(
                code=query["code"][0], state=query["state"][0], iss=query["iss"][0]
            )

    with running(fake_clerk) as base:
        url = f"{base}/mcp"
        data = await whoami(url, HeadlessOAuth())
        assert data["user_id"] == "user_oauth"
        # The challenge named scope="profile"; the client adds offline_access (the AS offers it).
        assert data["scopes"] == ["profile", "offline_access"]
        assert fake_clerk.hits["as_metadata"] >= 1
        assert fake_clerk.hits["oauth_register"] == 1
        assert fake_clerk.hits["oauth_token"] == 1


async def test_verifier_maps_and_refuses(fake_clerk: FakeClerk) -> None:
    from clerk_fastapi import UpstreamError

    url = "https://api.example.com/mcp"
    verifier = ClerkFastMCPVerifier(MCPResource(fake_clerk.clerk(), url=url, scopes=["profile"]))
    token = fake_clerk.oauth_token(
        "jwt", scopes=["profile"], user_id="user_v", client_id="c", aud=url
    )
    access = await verifier.verify_token(token)
    assert access is not None
    assert (access.client_id, access.subject, access.resource) == ("c", "user_v", url)
    assert access.claims["iss"] == fake_clerk.issuer
    assert await verifier.verify_token(fake_clerk.session_token()) is None
    opaque = fake_clerk.oauth_token("opaque", scopes=["profile"], aud=url)
    fake_clerk.fail("oauth_verify", "status", status=500)
    with pytest.raises(UpstreamError):
        await verifier.verify_token(opaque)
