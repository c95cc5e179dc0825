"""What a WebSocket client really sees when ``Auth`` refuses the handshake, on a real server
(uvicorn on 127.0.0.1): an HTTP 403 answer to the upgrade (the 1008 close code exists only inside
the ASGI app and in Starlette's TestClient), and the docs say so."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, WebSocket

from clerk_fastapi import Auth, SessionAuth
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

websockets_client = pytest.importorskip("websockets.asyncio.client")
from websockets.exceptions import InvalidStatus  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.anyio
async def test_a_refused_handshake_is_an_http_403_on_the_wire() -> None:
    fake = FakeClerk()
    app = FastAPI()
    fake.clerk().install(app)

    @app.websocket("/ws")
    async def ws(socket: WebSocket, user: Annotated[SessionAuth, Depends(Auth())]) -> None:
        await socket.accept()
        await socket.send_text(user.user_id)
        await socket.close()

    with serve_asgi(app) as base:
        url = base.replace("http://", "ws://") + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            async with websockets_client.connect(url):
                pass
        assert refused.value.response.status_code == 403
        token = fake.session_token(user_id="user_ws")
        async with websockets_client.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as connection:
            assert await connection.recv() == "user_ws"


def test_the_docs_describe_the_403_handshake() -> None:
    for page in ("errors.md", "protecting-routes.md"):
        text = (ROOT / "docs" / page).read_text()
        section = text.split("## WebSockets", 1)[1].split("\n## ", 1)[0]
        assert "HTTP 403" in section, page
