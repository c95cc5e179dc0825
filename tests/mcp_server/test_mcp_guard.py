"""``resource.protect(app)`` in front of a mounted MCP app, with both frameworks on the stateless
streamable HTTP transport (MCP 2026-07-28), on 127.0.0.1, the fake Clerk as the authorization
server: the challenges are this package's (scope on 401, every needed scope on 403, 503 +
``Retry-After``, 400), per-tool scopes answer a ``tools/call`` with the HTTP 403 a client steps
up from, and the framework still sees the verified token."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("mcp")
pytest.importorskip("fastmcp")

import httpx
import httpx2
from fastapi import FastAPI
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp_support import Storage, free_port

from clerk_fastapi import Clerk
from clerk_fastapi.mcp import MCPResource
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake import serve_asgi

pytestmark = pytest.mark.anyio
Framework = Literal["sdk", "fastmcp"]
FRAMEWORKS: list[Framework] = ["sdk", "fastmcp"]
MODERN = "2026-07-28"
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


def build_app(clerk: Clerk, url: str, framework: Framework, *, adapters: bool = False) -> FastAPI:
    """``whoami`` needs the resource's scope (``profile``); ``delete_note`` also ``notes:write``.
    ``adapters``: the framework also runs this package's verifier (its own auth on)."""
    resource = MCPResource(clerk, url=url, scopes=["profile"])
    app_lifespan: Any
    if framework == "sdk":
        from mcp.server.auth.middleware.auth_context import get_access_token
        from mcp.server.mcpserver import MCPServer

        from clerk_fastapi.mcp.sdk import ClerkTokenVerifier, auth_settings

        auth: dict[str, Any] = (
            {"token_verifier": ClerkTokenVerifier(resource), "auth": auth_settings(resource)}
            if adapters
            else {}
        )
        sdk = MCPServer("guarded", **auth)

        @sdk.tool()
        async def whoami() -> dict[str, Any]:
            token = get_access_token()
            assert token is not None
            return {"user_id": token.subject, "scopes": token.scopes}

        @sdk.tool()
        @resource.requires_scopes("notes:write")
        async def delete_note(note_id: str) -> str:
            return f"deleted {note_id}"

        mcp_app: Any = sdk.streamable_http_app(streamable_http_path="/mcp", stateless_http=True)
        app_lifespan = sdk.session_manager.run
    else:
        from fastmcp import FastMCP
        from fastmcp.server.dependencies import get_access_token as fastmcp_token

        from clerk_fastapi.mcp.fastmcp import clerk_remote_auth

        fast = FastMCP("guarded", auth=clerk_remote_auth(resource) if adapters else None)

        @fast.tool
        async def whoami() -> dict[str, Any]:
            token = fastmcp_token()
            assert token is not None
            return {"user_id": token.subject, "scopes": token.scopes}

        @fast.tool
        @resource.requires_scopes("notes:write")
        async def delete_note(note_id: str) -> str:
            return f"deleted {note_id}"

        mcp_app = fast.http_app(path="/mcp", stateless_http=True)
        app_lifespan = lambda: mcp_app.lifespan(mcp_app)  # noqa: E731

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), app_lifespan():
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(resource.metadata_router())
    app.mount("/", resource.protect(mcp_app))
    return app


@contextlib.contextmanager
def running(
    fake_clerk: FakeClerk, framework: Framework, *, adapters: bool = False, **options: Any
) -> Iterator[str]:
    with fake_clerk.serve(frontend_api=True):
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        app = build_app(fake_clerk.clerk(**options), url, framework, adapters=adapters)
        with serve_asgi(app, port=port, lifespan="on"):
            yield url


def call(tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments or {}},
    }


async def modern_call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> Any:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with (
        http,
        Client(streamable_http_client(url, http_client=http), mode=MODERN) as client,
    ):
        return await client.call_tool(tool, arguments)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_challenges_are_the_specs(fake_clerk: FakeClerk, framework: Framework) -> None:
    with running(fake_clerk, framework) as url:
        metadata = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        meta = f'resource_metadata="{metadata}"'
        profile = fake_clerk.oauth_token("jwt", scopes=["profile"], aud=url)
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
            # No token: the scopes the request needs, and no error (RFC 6750 §3.1).
            answer = await http.post(url, json=call("whoami"))
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == f'Bearer scope="profile", {meta}'
            answer = await http.post(url, json=call("delete_note", {"note_id": "n1"}))
            assert answer.headers["www-authenticate"] == (
                f'Bearer scope="profile notes:write", {meta}'
            )
            # A tool's scope missing: 403 naming every scope the call needs, not only the
            # missing one, so the stepped-up token still holds the resource's scope.
            answer = await http.post(
                url,
                json=call("delete_note", {"note_id": "n1"}),
                headers={"Authorization": f"Bearer {profile}"},
            )
            assert answer.status_code == 403
            assert answer.headers["www-authenticate"] == (
                f'Bearer error="insufficient_scope", scope="profile notes:write", {meta}'
            )
            # The resource's own scope missing on any request.
            email_only = fake_clerk.oauth_token("jwt", scopes=["email"], aud=url)
            answer = await http.post(
                url, json=call("whoami"), headers={"Authorization": f"Bearer {email_only}"}
            )
            assert answer.status_code == 403
            assert 'scope="profile"' in answer.headers["www-authenticate"]
            # Refused tokens: another resource's, no audience, wrong types.
            for token in (
                fake_clerk.oauth_token("jwt", scopes=["profile"], aud="https://other.test/mcp"),
                fake_clerk.oauth_token("opaque", scopes=["profile"], aud="https://other.test/mcp"),
                fake_clerk.oauth_token("jwt", scopes=["profile"]),
                fake_clerk.session_token("user_a"),
                fake_clerk.m2m_token("jwt", scopes=["profile"]),
                fake_clerk.api_key(scopes=["profile"]),
            ):
                answer = await http.post(
                    url, json=call("whoami"), headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 401
                challenge = answer.headers["www-authenticate"]
                assert challenge.startswith('Bearer error="invalid_token", error_description=')
                assert challenge.endswith(f'scope="profile", {meta}')
                assert token not in challenge and token not in answer.text
            # A malformed header: 400.
            answer = await http.post(url, json=call("whoami"), headers={"Authorization": "Bearer"})
            assert answer.status_code == 400
            # The metadata routes and CORS preflights stay public.
            assert (await http.get(metadata)).status_code == 200
            assert (await http.options(url)).status_code != 401


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_outage_is_503_with_retry_after(fake_clerk: FakeClerk, framework: Framework) -> None:
    with running(fake_clerk, framework) as url:
        token = fake_clerk.oauth_token("opaque", scopes=["profile"], aud=url)
        fake_clerk.fail("oauth_verify", "down")
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
            answer = await http.post(
                url, json=call("whoami"), headers={"Authorization": f"Bearer {token}"}
            )
        assert answer.status_code == 503
        assert int(answer.headers["retry-after"]) >= 1
        assert answer.json()["detail"]["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("adapters", [False, True], ids=["bare", "with-adapter"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_framework_sees_the_verified_token(
    fake_clerk: FakeClerk, framework: Framework, adapters: bool
) -> None:
    """The tool reads the token with the framework's own ``get_access_token()``, on the
    stateless protocol; behind the guard an opaque token is verified once per request even
    when the framework runs this package's verifier as well."""
    with running(fake_clerk, framework, adapters=adapters) as url:
        token = fake_clerk.oauth_token(
            "opaque", scopes=["profile", "notes:write"], user_id="user_42", aud=url
        )
        fake_clerk.reset_counters()
        result = await modern_call(url, token, "whoami", {})
        assert result.structured_content == {
            "user_id": "user_42",
            "scopes": ["profile", "notes:write"],
        }
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
            before = fake_clerk.hits["oauth_verify"]
            answer = await http.post(
                url,
                json=call("delete_note", {"note_id": "n7"}),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200
            assert "deleted n7" in answer.text
            assert fake_clerk.hits["oauth_verify"] - before == 1


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_each_refusal_is_logged_with_its_reason(
    fake_clerk: FakeClerk, framework: Framework, caplog: pytest.LogCaptureFixture
) -> None:
    with running(fake_clerk, framework) as url:
        token = fake_clerk.oauth_token("jwt", scopes=["profile"], aud=url)
        caplog.set_level(logging.INFO, logger="clerk_fastapi")
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
            await http.post(
                url,
                json=call("delete_note", {"note_id": "n1"}),
                headers={"Authorization": f"Bearer {token}"},
            )
    refusals = [r.getMessage() for r in caplog.records if "MCP request refused" in r.getMessage()]
    assert len(refusals) == 1
    assert "status=403" in refusals[0]
    assert "reason=insufficient-scope" in refusals[0]
    assert "tools=delete_note" in refusals[0]
    assert "missing=notes:write" in refusals[0]
    assert token not in refusals[0]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sdk_client_signs_in_then_steps_up_to_a_tools_scope(
    fake_clerk: FakeClerk, framework: Framework
) -> None:
    """The SDK client starts with no token and no scope of its own: it requests what the 401
    names (``profile``, not ``openid``: the Clerk scope trap), calls ``whoami``, then gets the
    403 for ``delete_note``, re-authorises for every scope it names, and the call succeeds."""
    fake_clerk.oauth_user_id = "user_stepped_up"
    with running(fake_clerk, framework) as url:
        location: dict[str, str] = {}
        requested: list[str] = []

        async def redirect_handler(authorization_url: str) -> None:
            requested.append(parse_qs(urlsplit(authorization_url).query)["scope"][0])
            async with httpx.AsyncClient() as http:
                answer = await http.get(authorization_url)  # the fake consents at once
            location["url"] = answer.headers["location"]

        async def callback_handler() -> AuthorizationCodeResult:
            query = parse_qs(urlsplit(location["url"]).query)
            return AuthorizationCodeResult(
                code=query["code"][0], state=query["state"][0], iss=query["iss"][0]
            )

        storage = Storage()
        auth = OAuthClientProvider(
            server_url=url,
            client_metadata=OAuthClientMetadata(
                client_name="step-up client",
                redirect_uris=["http://127.0.0.1:1/callback"],  # type: ignore[list-item]
                grant_types=["authorization_code"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )
        http = httpx2.AsyncClient(auth=auth, timeout=30)
        async with (
            http,
            Client(streamable_http_client(url, http_client=http), mode=MODERN) as client,
        ):
            who = await client.call_tool("whoami", {})
            deleted = await client.call_tool("delete_note", {"note_id": "n9"})
        assert who.structured_content == {"user_id": "user_stepped_up", "scopes": ["profile"]}
        assert not deleted.is_error
        assert "deleted n9" in json.dumps(deleted.model_dump(mode="json"))
        assert requested == ["profile", "profile notes:write"]
        assert fake_clerk.hits["oauth_token"] == 2
        assert storage.tokens is not None
        assert set((storage.tokens.scope or "").split()) == {"profile", "notes:write"}


@pytest.mark.parametrize("ttl", [0, 60])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_backend_api_calls_per_stateless_request(
    fake_clerk: FakeClerk, framework: Framework, ttl: int
) -> None:
    """The stateless protocol authenticates every HTTP request: with an opaque token and the
    cache off that is one Backend API call per request (the SDK client's discovery probe and
    each tool call); with ``CLERK_MACHINE_TOKEN_CACHE_TTL`` one per token."""
    with running(fake_clerk, framework, machine_token_cache_ttl=ttl) as url:
        token = fake_clerk.oauth_token("opaque", scopes=["profile"], aud=url)
        sent: list[str] = []

        async def count(request: httpx2.Request) -> None:
            sent.append(request.method)

        http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            event_hooks={"request": [count]},
        )
        fake_clerk.reset_counters()
        async with (
            http,
            Client(streamable_http_client(url, http_client=http), mode=MODERN) as client,
        ):
            for _ in range(3):
                assert not (await client.call_tool("whoami", {})).is_error
    assert len(sent) >= 3
    assert fake_clerk.hits["oauth_verify"] == (len(sent) if ttl == 0 else 1)
