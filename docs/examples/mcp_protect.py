"""resource.protect(): Clerk's answers in front of a mounted MCP app, with per-tool scopes.

Needs the extra `clerk-fastapi[mcp]`. Run it to see the challenges an MCP client gets from
an SDK server and a FastMCP server (stateless streamable HTTP), with the fake Clerk.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from clerk_fastapi import Clerk
from clerk_fastapi.mcp import MCPResource


def notes_resource(clerk: Clerk, url: str) -> MCPResource:
    # Every call needs notes:read; delete_note needs notes:write as well.
    return MCPResource(
        clerk, url=url, scopes=["notes:read"], tool_scopes={"delete_note": ["notes:write"]}
    )


# --- The official MCP SDK ------------------------------------------------------------------------
def create_sdk_app(clerk: Clerk, url: str) -> FastAPI:
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.mcpserver import MCPServer

    resource = notes_resource(clerk, url)
    mcp = MCPServer("notes")  # no auth of its own: resource.protect() does it

    @mcp.tool()
    async def list_notes() -> dict[str, Any]:
        token = get_access_token()  # the token protect() verified
        assert token is not None
        return {"owner": token.subject, "notes": ["n1", "n2"]}

    @mcp.tool()
    async def delete_note(note_id: str) -> str:
        return f"deleted {note_id}"

    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), mcp.session_manager.run():
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(resource.metadata_router())  # /.well-known/oauth-protected-resource/mcp
    app.mount("/", resource.protect(mcp_app))
    return app


# --- FastMCP -------------------------------------------------------------------------------------
def create_fastmcp_app(clerk: Clerk, url: str) -> FastAPI:
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    resource = MCPResource(clerk, url=url, scopes=["notes:read"])
    mcp = FastMCP("notes")

    @mcp.tool
    async def list_notes() -> dict[str, Any]:
        token = get_access_token()
        assert token is not None
        return {"owner": token.subject, "notes": ["n1", "n2"]}

    @mcp.tool
    @resource.requires_scopes("notes:write")  # the decorator form of tool_scopes
    async def delete_note(note_id: str) -> str:
        return f"deleted {note_id}"

    mcp_app = mcp.http_app(path="/mcp", stateless_http=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), mcp_app.lifespan(app):
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(resource.metadata_router())
    app.mount("/", resource.protect(mcp_app))
    return app


if __name__ == "__main__":
    import socket

    import httpx

    from clerk_fastapi.testing import FakeClerk
    from clerk_fastapi.testing import serve_asgi

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def call(tool: str, **arguments: Any) -> dict[str, Any]:
        params = {"name": tool, "arguments": arguments}
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}

    headers = {"Accept": "application/json, text/event-stream"}
    fake = FakeClerk()
    with fake.serve():
        for create in (create_sdk_app, create_fastmcp_app):
            port = free_port()
            url = f"http://127.0.0.1:{port}/mcp"
            meta = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
            with serve_asgi(create(fake.clerk(), url), port=port, lifespan="on"):
                http = httpx.Client(headers=headers, timeout=30)
                # No token: 401 naming the scopes the call needs and where the metadata is.
                answer = http.post(url, json=call("delete_note", note_id="n1"))
                assert answer.status_code == 401
                assert answer.headers["www-authenticate"] == (
                    f'Bearer scope="notes:read notes:write", resource_metadata="{meta}"'
                )
                # A token with the resource's scope only: list_notes works...
                read = fake.oauth_token("jwt", scopes=["notes:read"], user_id="user_1", aud=url)
                auth = {"Authorization": f"Bearer {read}"}
                answer = http.post(url, json=call("list_notes"), headers=auth)
                assert answer.status_code == 200 and "user_1" in answer.text
                # ...delete_note gets the 403 a client steps up from, naming every scope.
                answer = http.post(url, json=call("delete_note", note_id="n1"), headers=auth)
                assert answer.status_code == 403
                assert answer.headers["www-authenticate"] == (
                    'Bearer error="insufficient_scope", scope="notes:read notes:write", '
                    f'resource_metadata="{meta}"'
                )
                # The stepped-up token calls it.
                both = fake.oauth_token("jwt", scopes=["notes:read", "notes:write"], aud=url)
                auth = {"Authorization": f"Bearer {both}"}
                answer = http.post(url, json=call("delete_note", note_id="n1"), headers=auth)
                assert answer.status_code == 200 and "deleted n1" in answer.text
                # Clerk unreachable (an opaque token needs the Backend API): 503 + Retry-After.
                opaque = fake.oauth_token("opaque", scopes=["notes:read"], aud=url)
                fake.fail("oauth_verify", "down")
                answer = http.post(
                    url, json=call("list_notes"), headers={"Authorization": f"Bearer {opaque}"}
                )
                assert answer.status_code == 503 and "retry-after" in answer.headers
                fake.heal()
                # The metadata names every scope a client may need.
                scopes = http.get(meta).json()["scopes_supported"]
                assert scopes == ["notes:read", "notes:write"]
                print(create.__name__, "ok")
