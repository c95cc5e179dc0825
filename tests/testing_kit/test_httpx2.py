"""The httpx2 generation: ``clerk.m2m.auth()`` and ``fake.transport()`` work with ``httpx`` and
``httpx2`` clients (an MCP client included), sync clients get a clear error, and a user's test run
sees no deprecation warning."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from clerk_fastapi import Auth, Clerk, M2MAuth
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

httpx2 = pytest.importorskip("httpx2")

LIBRARIES = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2")]


def receiver_app(fake: FakeClerk, receiver_secret: str) -> FastAPI:
    app = FastAPI()
    fake.clerk(machine_secret_key=receiver_secret).install(app)

    @app.post("/work")
    async def work(caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))]) -> Any:
        return {"caller": caller.subject}

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("library", LIBRARIES)
async def test_m2m_auth_calls_a_protected_service(library: ModuleType) -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    caller = fake.clerk(machine_secret_key=a.secret_key)
    async with library.AsyncClient(
        auth=caller.m2m.auth(),
        transport=library.ASGITransport(app=receiver_app(fake, b.secret_key)),
        base_url="http://b",
    ) as client:
        answers = [await client.post("/work", json={"n": n}) for n in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert {r.json()["caller"] for r in answers} == {a.id}
    assert fake.hits["m2m_create"] == 1  # one token for every request


@pytest.mark.anyio
async def test_m2m_auth_renews_after_a_401_with_httpx2() -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    caller = fake.clerk(machine_secret_key=a.secret_key)
    auth = caller.m2m.auth()
    async with httpx2.AsyncClient(
        auth=auth,
        transport=httpx2.ASGITransport(app=receiver_app(fake, b.secret_key)),
        base_url="http://b",
    ) as client:
        assert (await client.post("/work")).status_code == 200
        first = auth.token_id
        assert first is not None
        await caller.m2m.revoke(first)
        again = await client.post("/work", content=b"streamed once, sent twice")
    assert again.status_code == 200
    assert auth.token_id != first
    assert fake.hits["m2m_create"] == 2


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_sync_client_gets_a_clear_error(library: ModuleType) -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    with (
        library.Client(auth=auth, base_url="http://b") as client,
        pytest.raises(
            RuntimeError, match=r"async clients only \(httpx.AsyncClient, httpx2.AsyncClient\)"
        ),
    ):
        client.get("/work")


@pytest.mark.anyio
@pytest.mark.parametrize("library", LIBRARIES)
async def test_the_fakes_transport_serves_either_client(library: ModuleType) -> None:
    fake = FakeClerk()
    async with library.AsyncClient(transport=fake.transport(), base_url=fake.api_url) as client:
        answer = await client.get(
            "/v1/jwks", headers={"Authorization": f"Bearer {fake.secret_key}"}
        )
    assert answer.status_code == 200
    assert [key["kty"] for key in answer.json()["keys"]] == ["RSA"]


# -- an MCP client (the official SDK, on httpx2) calls an M2M-protected MCP server ---------------


class RequireM2M:
    """The MCP app behind ``Auth``'s rules for M2M tokens (401 without a valid one)."""

    def __init__(self, app: ASGIApp, clerk: Clerk) -> None:
        self.app = app
        self.clerk = clerk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = await self.clerk.authenticate_request(Request(scope), accepts="m2m_token")
            if state.status != "signed-in":
                answer = JSONResponse({"reason": state.reason}, status_code=401)
                await answer(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = state.to_auth().subject
        await self.app(scope, receive, send)


@pytest.mark.anyio
async def test_an_mcp_client_calls_a_protected_server_with_m2m_auth() -> None:
    pytest.importorskip("mcp")
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.mcpserver import MCPServer

    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    mcp = MCPServer("jobs")

    @mcp.tool()
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    server = FastAPI(lifespan=lifespan)
    server.mount(
        "/",
        RequireM2M(
            mcp.streamable_http_app(streamable_http_path="/mcp"),
            fake.clerk(machine_secret_key=b.secret_key),
        ),
    )
    caller = fake.clerk(machine_secret_key=a.secret_key)
    with serve_asgi(server, lifespan="on") as base:
        # Without the token: refused.
        async with httpx2.AsyncClient() as bare:
            assert (await bare.post(f"{base}/mcp", json={})).status_code == 401
        client = httpx2.AsyncClient(auth=caller.m2m.auth(), timeout=30)
        async with (
            client,
            streamable_http_client(f"{base}/mcp", http_client=client) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("ping", {})
    assert not result.is_error, result
    assert json.loads(result.content[0].text) == {"pong": "yes"}  # type: ignore[union-attr]
    assert fake.hits["m2m_create"] == 1


# -- no deprecation warning reaches a user's test run ------------------------------------------


def test_a_user_project_test_run_has_no_deprecation_warning(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\naddopts = '-p no:cacheprovider'\n"
    )
    (tmp_path / "main.py").write_text(
        textwrap.dedent(
            """
            from typing import Annotated
            from fastapi import Depends, FastAPI
            from clerk_fastapi import Auth, Clerk, SessionAuth

            clerk = Clerk()
            app = FastAPI(lifespan=clerk.lifespan)

            @app.get("/me")
            async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
                return {"user_id": user.user_id}
            """
        )
    )
    (tmp_path / "test_main.py").write_text(
        textwrap.dedent(
            """
            import httpx2
            import pytest
            from fastapi.testclient import TestClient
            from main import app

            def test_me(fake_clerk, use_fake_clerk):
                use_fake_clerk(app)
                with TestClient(app) as client:
                    token = fake_clerk.session_token(user_id="user_1")
                    answer = client.get("/me", headers={"Authorization": f"Bearer {token}"})
                assert answer.json() == {"user_id": "user_1"}

            @pytest.mark.anyio
            async def test_the_fake_over_httpx2(fake_clerk):
                async with httpx2.AsyncClient(
                    transport=fake_clerk.transport(), base_url=fake_clerk.api_url
                ) as client:
                    answer = await client.get(
                        "/v1/jwks", headers={"Authorization": f"Bearer {fake_clerk.secret_key}"}
                    )
                assert answer.status_code == 200
            """
        )
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error::DeprecationWarning", "-rw"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "2 passed" in output
    assert "warning" not in output.lower(), output[-3000:]


def test_the_projects_own_config_hides_no_warning() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "filterwarnings" not in pyproject
