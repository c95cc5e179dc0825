"""FastMCP's own ClerkProvider (an OAuth proxy), verifying with clerk-fastapi.

For MCP clients that cannot register with Clerk: FastMCP is their authorization server and signs
them in at Clerk with your OAuth application. `clerk_provider()` keeps that flow and replaces the
two Frontend API calls FastMCP's verifier makes per request (introspection and userinfo) with
this package's verification: at+jwt checked locally, oat_ through the cached Backend API, the
audience checked. Needs the extra `clerk-fastapi[mcp]`; run it to sign in offline.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from clerk_fastapi import Clerk
from clerk_fastapi.mcp import MCPResource


def create_app(clerk: Clerk, url: str, client_id: str, client_secret: str, **options: Any) -> Any:
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    from clerk_fastapi.mcp.fastmcp import clerk_provider

    resource = MCPResource(clerk, url=url, scopes=["profile"])
    # client_id/client_secret: a Clerk OAuth application (dashboard: OAuth applications) whose
    # redirect URI is <origin>/auth/callback. options go to ClerkProvider (client_storage, ...).
    auth = clerk_provider(resource, client_id=client_id, client_secret=client_secret, **options)
    mcp = FastMCP("example", auth=auth)

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
    app.mount("/", mcp_app)  # serves /authorize, /token, /register, /auth/callback and /mcp
    return app, auth


if __name__ == "__main__":
    import asyncio
    import socket
    from urllib.parse import parse_qs, urlsplit

    import httpx
    from fastmcp import Client
    from fastmcp.client.auth import OAuth
    from key_value.aio.stores.memory import MemoryStore
    from mcp.client.auth import AuthorizationCodeResult

    from clerk_fastapi.testing import FakeClerk
    from clerk_fastapi.testing import serve_asgi

    class HeadlessOAuth(OAuth):
        """The browser part of the sign-in, done with httpx (the fake consents at once)."""

        location = ""

        async def redirect_handler(self, authorization_url: str) -> None:
            location = authorization_url
            async with httpx.AsyncClient() as http:
                while "/auth/callback" in location or "code=" not in location:
                    location = (await http.get(location)).headers["location"]
            self.location = location

        async def callback_handler(self) -> AuthorizationCodeResult:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}
            return AuthorizationCodeResult(
                code=query["code"], state=query["state"], iss=query.get("iss")
            )

    async def three_calls(url: str) -> Any:
        async with Client(url, auth=HeadlessOAuth()) as client:
            return [(await client.call_tool("whoami", {})).data for _ in range(3)]

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    fake = FakeClerk()
    with fake.serve(frontend_api=True):
        for token_format in ("jwt", "opaque"):
            fake.oauth_token_format = token_format
            client_id, secret = fake.register_oauth_client([f"{base}/auth/callback"])
            app, auth = create_app(
                fake.clerk(machine_token_cache_ttl=60),
                f"{base}/mcp",
                client_id,
                secret or "",
                client_storage=MemoryStore(),
                jwt_signing_key="example-signing-key-0123456789abcdef",
                require_authorization_consent=False,  # no consent page to click through here
            )
            # ClerkProvider builds https:// Clerk URLs; the fake answers http on loopback.
            auth._upstream_authorization_endpoint = f"{fake.issuer}/oauth/authorize"
            auth._upstream_token_endpoint = f"{fake.issuer}/oauth/token"
            with serve_asgi(app, port=port, lifespan="on"):
                fake.reset_counters()
                results = asyncio.run(three_calls(f"{base}/mcp"))
            assert results == [{"user_id": fake.oauth_user_id, "scopes": ["profile"]}] * 3
            frontend = fake.hits["oauth_token_info"] + fake.hits["oauth_userinfo"]
            backend = fake.hits["oauth_verify"]
            assert frontend == 0 and backend == (0 if token_format == "jwt" else 1)
            print(f"{token_format}: 3 calls, {frontend} Frontend / {backend} Backend API calls")
