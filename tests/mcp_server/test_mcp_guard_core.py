"""``resource.protect()`` without the MCP extra: the guard answers on its own (the hand-over to
the SDK is skipped when ``mcp`` is not installed), so these run in ``make test-core`` too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from clerk_fastapi.mcp import MCPResource
from clerk_fastapi.mcp.guard import called_tools
from clerk_fastapi.testing import FakeClerk


def call(tool: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}}


def test_called_tools_reads_calls_and_batches() -> None:
    assert called_tools(json.dumps(call("a")).encode()) == ["a"]
    assert called_tools(json.dumps([call("a"), call("b"), {"method": "tools/list"}]).encode()) == [
        "a",
        "b",
    ]
    for body in (b"", b"{", b"[]", b'{"method": "tools/call"}', b'{"params": {"name": "a"}}'):
        assert called_tools(body) == []
    assert called_tools(b'{"method": "tools/call", "params": {"name": 5}}') == []


def test_only_the_apps_own_metadata_paths_and_preflights_pass_unauthenticated() -> None:
    """``/.well-known/`` is public only at the root of the wrapped app (where the frameworks
    serve their metadata), not anywhere in a path; WebSockets get the resource's rules."""

    async def ok(request: Any) -> PlainTextResponse:
        return PlainTextResponse("reached")

    async def socket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("reached")
        await websocket.close()

    inner = Starlette(
        routes=[
            Route("/{path:path}", ok, methods=["GET", "POST", "OPTIONS"]),
            WebSocketRoute("/ws", socket_endpoint),
        ]
    )
    fake = FakeClerk()
    url = "http://testserver/api/mcp"
    resource = MCPResource(fake.clerk(), url=url, scopes=["profile"])
    app = Starlette(routes=[Mount("/api", resource.protect(inner))])
    good = fake.oauth_token("jwt", scopes=["profile"], aud=url)
    with TestClient(app) as client:
        assert client.get("/api/.well-known/oauth-protected-resource/mcp").text == "reached"
        assert client.options("/api/mcp").text == "reached"
        for path in ("/api/mcp", "/api/mcp/.well-known/x", "/api/x/.well-known/y"):
            assert client.post(path).status_code == 401, path
        assert client.post("/api/mcp", headers={"Authorization": f"Bearer {good}"}).text == (
            "reached"
        )
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/ws"):
            pass
        assert closed.value.code == 1008
        with client.websocket_connect(
            "/api/ws", headers={"Authorization": f"Bearer {good}"}
        ) as websocket:
            assert websocket.receive_text() == "reached"


def test_the_body_read_for_tool_scopes_reaches_the_framework_unchanged() -> None:
    """The guard reads a ``tools/call`` body to find the tool, refuses with the 403 naming every
    scope the call needs, and replays the exact bytes to the wrapped app; a body larger than it
    reads is refused (413) rather than passed unchecked."""
    from starlette.requests import Request

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse((await request.body()).decode())

    inner = Starlette(routes=[Route("/mcp", echo, methods=["POST"])])
    fake = FakeClerk()
    url = "http://testserver/mcp"
    resource = MCPResource(
        fake.clerk(), url=url, scopes=["notes:read"], tool_scopes={"delete": ["notes:write"]}
    )
    app = Starlette(routes=[Mount("/", resource.protect(inner, max_body_size=2048))])
    read = fake.oauth_token("jwt", scopes=["notes:read"], aud=url)
    both = fake.oauth_token("jwt", scopes=["notes:read", "notes:write"], aud=url)
    body = json.dumps([call("list"), call("delete")]).encode()
    with TestClient(app) as client:
        refused = client.post("/mcp", content=body, headers={"Authorization": f"Bearer {read}"})
        assert refused.status_code == 403
        assert refused.headers["www-authenticate"] == (
            'Bearer error="insufficient_scope", scope="notes:read notes:write", '
            'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
        )
        passed = client.post("/mcp", content=body, headers={"Authorization": f"Bearer {both}"})
        assert passed.status_code == 200
        assert passed.content == body
        listing = json.dumps(call("list")).encode()
        assert (
            client.post("/mcp", content=listing, headers={"Authorization": f"Bearer {read}"})
        ).content == listing
        large = json.dumps({**call("list"), "pad": "x" * 4096}).encode()
        too_large = client.post("/mcp", content=large, headers={"Authorization": f"Bearer {both}"})
        assert too_large.status_code == 413
