"""An MCP server in FastAPI, protected by Clerk: with the official MCP SDK or with FastMCP.

Needs the extra `clerk-fastapi[mcp]`. Run it to see both served on 127.0.0.1 with the fake
Clerk as the authorization server, and each framework's client calling the tool.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from clerk_fastapi import Clerk, OAuthAuth
from clerk_fastapi.mcp import MCPResource


def cors(app: FastAPI) -> None:
    # Browser-based MCP clients must be able to read the challenge and the session id.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version"],
        expose_headers=["WWW-Authenticate", "Mcp-Session-Id"],
    )


# --- The official MCP SDK ------------------------------------------------------------------------
def create_sdk_app(clerk: Clerk, url: str) -> FastAPI:
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.mcpserver import MCPServer

    from clerk_fastapi.mcp.sdk import ClerkTokenVerifier, auth_settings

    # url: where clients reach the MCP endpoint, e.g. https://api.example.com/mcp
    resource = MCPResource(clerk, url=url, scopes=["profile"], resource_name="Example MCP")
    mcp = MCPServer(
        "example", token_verifier=ClerkTokenVerifier(resource), auth=auth_settings(resource)
    )

    @mcp.tool()
    async def whoami() -> dict[str, Any]:
        """Who is calling: the Clerk user the agent acts for."""
        token = get_access_token()
        assert token is not None
        return {"user_id": token.subject, "scopes": token.scopes}

    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A mounted app's lifespan never runs: enter the MCP session manager here.
        async with clerk.lifespan(app), mcp.session_manager.run():
            yield

    app = FastAPI(lifespan=lifespan)
    cors(app)
    app.include_router(resource.metadata_router())  # /.well-known/oauth-protected-resource/mcp

    # A plain FastAPI route for the same OAuth clients: 401/403 point at the metadata.
    @app.get("/api/me")
    async def me(auth: Annotated[OAuthAuth, Depends(resource.auth())]) -> dict[str, str]:
        return {"user_id": auth.user_id}

    app.mount("/", mcp_app)  # last: FastAPI routes first
    return app


# --- FastMCP -------------------------------------------------------------------------------------
def create_fastmcp_app(clerk: Clerk, url: str) -> FastAPI:
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    from clerk_fastapi.mcp.fastmcp import clerk_remote_auth

    resource = MCPResource(clerk, url=url, scopes=["profile"])
    mcp = FastMCP("example", auth=clerk_remote_auth(resource))

    @mcp.tool
    async def whoami() -> dict[str, Any]:
        token = get_access_token()
        assert token is not None
        return {"user_id": token.subject, "scopes": token.scopes}

    mcp_app = mcp.http_app(path="/mcp")  # the path of resource.url

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), mcp_app.lifespan(app):
            yield

    app = FastAPI(lifespan=lifespan)
    cors(app)
    app.include_router(resource.metadata_router())
    app.mount("/", mcp_app)
    return app


if __name__ == "__main__":
    import asyncio
    import json
    import socket

    import httpx
    import httpx2
    from fastmcp import Client
    from fastmcp.client.auth import BearerAuth
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from clerk_fastapi.testing import FakeClerk
    from clerk_fastapi.testing import serve_asgi

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    async def sdk_client(url: str, token: str) -> Any:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
        async with http, streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("whoami", {})
        return json.loads(result.content[0].text)  # type: ignore[union-attr]

    async def fastmcp_client(url: str, token: str) -> Any:
        async with Client(url, auth=BearerAuth(token)) as client:
            return (await client.call_tool("whoami", {})).data

    fake = FakeClerk()
    with fake.serve(frontend_api=True):
        for create, call in ((create_sdk_app, sdk_client), (create_fastmcp_app, fastmcp_client)):
            port = free_port()
            url = f"http://127.0.0.1:{port}/mcp"
            with serve_asgi(create(fake.clerk(), url), port=port, lifespan="on"):
                token = fake.oauth_token("jwt", scopes=["profile"], user_id="user_42", aud=url)
                who = asyncio.run(call(url, token))
                assert who == {"user_id": "user_42", "scopes": ["profile"]}, who
                meta = httpx.get(
                    f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
                )
                assert meta.json()["resource"] == url
                other = fake.oauth_token("jwt", scopes=["profile"], aud="https://other.test/mcp")
                refused = httpx.post(url, json={}, headers={"Authorization": f"Bearer {other}"})
                assert refused.status_code == 401
                print(create.__name__, "->", who)
