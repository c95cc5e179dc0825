"""MCPResource (no MCP package needed): the RFC 9728 document and its route, the challenges of
``resource.auth()``, the audience rule, and type confusion at an MCP endpoint."""

from typing import Annotated, Any

import pytest
from any_app import bearer, client_for
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, ConfigurationError, OAuthAuth
from clerk_fastapi.mcp import MCPResource, audience_contains
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio

URL = "https://api.example.com/mcp"
META = "https://api.example.com/.well-known/oauth-protected-resource/mcp"


def mcp_app(resource: MCPResource, *, root: bool = False) -> FastAPI:
    app = FastAPI()
    resource.clerk.install(app)
    app.include_router(resource.metadata_router(root=root))

    @app.post("/mcp")
    async def tool(auth: Annotated[OAuthAuth, Depends(resource.auth())]) -> dict[str, Any]:
        return {"user_id": auth.user_id, "scopes": auth.scopes}

    return app


# -- the metadata document ----------------------------------------------------------------------


def test_metadata_document_exact(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(
        fake_clerk.clerk(),
        url=URL,
        scopes=["profile"],
        scopes_supported=["profile", "email"],
        resource_name="Example MCP",
        resource_documentation="https://api.example.com/docs",
    )
    assert resource.metadata() == {
        "resource": "https://api.example.com/mcp",
        "authorization_servers": ["https://clerk.fake-clerk.test"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["profile", "email"],
        "resource_name": "Example MCP",
        "resource_documentation": "https://api.example.com/docs",
    }
    assert resource.metadata_url == META
    assert resource.metadata_path == "/.well-known/oauth-protected-resource/mcp"


def test_metadata_defaults_and_url_without_path(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(fake_clerk.clerk(), url="https://api.example.com", scopes="profile")
    assert resource.metadata() == {
        "resource": "https://api.example.com",
        "authorization_servers": ["https://clerk.fake-clerk.test"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["profile"],
    }
    assert resource.metadata_url == "https://api.example.com/.well-known/oauth-protected-resource"
    bare = MCPResource(fake_clerk.clerk(), url=URL)
    assert "scopes_supported" not in bare.metadata()


def test_authorization_server_sources(fake_clerk: FakeClerk) -> None:
    issuer = MCPResource(fake_clerk.clerk(issuer="https://clerk.example.com"), url=URL)
    assert issuer.metadata()["authorization_servers"] == ["https://clerk.example.com"]
    explicit = MCPResource(fake_clerk.clerk(), url=URL, authorization_server="https://as.example")
    assert explicit.metadata()["authorization_servers"] == ["https://as.example"]
    with pytest.raises(ConfigurationError, match="CLERK_PUBLISHABLE_KEY"):
        MCPResource(fake_clerk.clerk(publishable_key=None), url=URL)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("api.example.com/mcp", "absolute http"),
        ("ftp://api.example.com/mcp", "absolute http"),
        ("https://api.example.com/mcp#x", "no query or fragment"),
        ("https://api.example.com/mcp?v=1", "no query or fragment"),
        ("https://u:p@api.example.com/mcp", "credentials"),
    ],
)
def test_bad_resource_urls(fake_clerk: FakeClerk, url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MCPResource(fake_clerk.clerk(), url=url)


def test_bad_scopes_and_auth_options(fake_clerk: FakeClerk) -> None:
    with pytest.raises(ValueError, match="scope names"):
        MCPResource(fake_clerk.clerk(), url=URL, scopes=["a b"])
    resource = MCPResource(fake_clerk.clerk(), url=URL)
    with pytest.raises(TypeError, match="sets accepts itself"):
        resource.auth(accepts="session_token")
    with pytest.raises(ValueError, match="resource_metadata"):
        Auth("oauth_token", resource_metadata="/relative")


async def test_metadata_route_get_head_options_and_root(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(fake_clerk.clerk(), url=URL, scopes=["profile"])
    async with client_for(mcp_app(resource)) as client:
        got = await client.get("/.well-known/oauth-protected-resource/mcp")
        assert got.status_code == 200
        assert got.json() == resource.metadata()
        assert got.headers["content-type"] == "application/json"
        assert got.headers["cache-control"] == "public, max-age=3600"
        assert got.headers["access-control-allow-origin"] == "*"
        head = await client.head("/.well-known/oauth-protected-resource/mcp")
        assert head.status_code == 200
        assert head.content == b""
        preflight = await client.options(
            "/.well-known/oauth-protected-resource/mcp",
            headers={"Origin": "https://inspector.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
        assert (await client.get("/.well-known/oauth-protected-resource")).status_code == 404
        assert (await client.get("/.well-known/oauth-protected-resource/other")).status_code == 404
    async with client_for(mcp_app(resource, root=True)) as client:
        root = await client.get("/.well-known/oauth-protected-resource")
        assert root.json() == resource.metadata()
    openapi = mcp_app(resource).openapi()
    assert not any(p.startswith("/.well-known") for p in openapi["paths"])


# -- challenges ---------------------------------------------------------------------------------


async def test_every_challenge(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(fake_clerk.clerk(), url=URL, scopes=["profile", "email"])
    good = fake_clerk.oauth_token("jwt", scopes=["profile", "email"], aud=URL, user_id="user_a")
    async with client_for(mcp_app(resource)) as client:
        ok = await client.post("/mcp", headers=bearer(good))
        assert ok.status_code == 200
        assert ok.json() == {"user_id": "user_a", "scopes": ["profile", "email"]}

        missing = await client.post("/mcp")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == (
            f'Bearer scope="profile email", resource_metadata="{META}"'
        )
        invalid = await client.post("/mcp", headers=bearer("oat_" + "x" * 32))
        assert invalid.status_code == 401
        assert invalid.headers["www-authenticate"] == (
            'Bearer error="invalid_token", error_description="token-invalid", '
            f'scope="profile email", resource_metadata="{META}"'
        )
        narrow = fake_clerk.oauth_token("jwt", scopes=["profile"], aud=URL)
        forbidden = await client.post("/mcp", headers=bearer(narrow))
        assert forbidden.status_code == 403
        # Every scope the route needs, not only the missing one (MCP 2026-07-28 step-up).
        assert forbidden.headers["www-authenticate"] == (
            f'Bearer error="insufficient_scope", scope="profile email", resource_metadata="{META}"'
        )
        opaque = fake_clerk.oauth_token("opaque", scopes=["profile", "email"], aud=[URL])
        fake_clerk.fail("oauth_verify", "status", status=503, retry_after=7)
        down = await client.post("/mcp", headers=bearer(opaque))
        assert down.status_code == 503
        assert down.headers["retry-after"] == "7"
        assert "www-authenticate" not in down.headers
        fake_clerk.heal()
        assert (await client.post("/mcp", headers=bearer(opaque))).status_code == 200
        for answer in (missing, invalid, forbidden, down):
            assert good not in str(answer.headers) and opaque not in str(answer.headers)


async def test_resource_metadata_option_on_any_auth(fake_clerk: FakeClerk) -> None:
    app = FastAPI()
    fake_clerk.clerk().install(app)

    @app.get("/own")
    async def own(a: Annotated[Any, Depends(Auth("oauth_token", resource_metadata=META))]) -> None:
        return None

    @app.get("/none")
    async def none(
        a: Annotated[Any, Depends(Auth("oauth_token", resource_metadata=False))],
    ) -> None:
        return None

    @app.get("/default")
    async def default(a: Annotated[Any, Depends(Auth("oauth_token"))]) -> None:
        return None

    async with client_for(app) as client:
        own_401 = await client.get("/own")
        assert own_401.headers["www-authenticate"] == f'Bearer resource_metadata="{META}"'
        assert (await client.get("/none")).headers["www-authenticate"] == "Bearer"
        assert (await client.get("/default")).headers["www-authenticate"] == (
            'Bearer resource_metadata="https://clerk.fake-clerk.test/'
            '.well-known/oauth-protected-resource"'
        )


# -- the audience rule --------------------------------------------------------------------------

AUDIENCE_CASES = [
    # (aud of the token, require_audience, expected status)
    (URL, True, 200),
    (["https://other.example/mcp", URL], True, 200),
    ("https://other.example/mcp", True, 401),
    (["https://other.example/mcp"], False, 401),
    (None, True, 401),
    (None, False, 200),
    ("HTTPS://API.EXAMPLE.COM/mcp", True, 200),
    ("https://api.example.com:443/mcp", True, 200),
    ("https://api.example.com/mcp/", True, 200),
    ("https://api.example.com/MCP", True, 401),
    ("https://api.example.com", True, 401),
    ("https://api.example.com/mcp/extra", True, 401),
    ("http://api.example.com/mcp", True, 401),
    ("https://api.example.com:8443/mcp", True, 401),
    ([], True, 401),
]


@pytest.mark.parametrize("form", ["jwt", "opaque"])
@pytest.mark.parametrize(("aud", "require", "status"), AUDIENCE_CASES)
async def test_audience_matrix(
    fake_clerk: FakeClerk, form: str, aud: Any, require: bool, status: int
) -> None:
    resource = MCPResource(
        fake_clerk.clerk(), url=URL, scopes=["profile"], require_audience=require
    )
    token = fake_clerk.oauth_token(form, scopes=["profile"], aud=aud)  # type: ignore[arg-type]
    async with client_for(mcp_app(resource)) as client:
        answer = await client.post("/mcp", headers=bearer(token))
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["www-authenticate"] == (
            'Bearer error="invalid_token", error_description="token-invalid-audience", '
            f'scope="profile", resource_metadata="{META}"'
        )
        assert answer.json()["detail"]["reason"] == "token-invalid-audience"


async def test_audience_checked_on_cached_results(fake_clerk: FakeClerk) -> None:
    # The opaque cache keeps the aud: a cached token for another resource is still refused.
    clerk = fake_clerk.clerk(machine_token_cache_ttl=60)
    ours = MCPResource(clerk, url=URL)
    other = MCPResource(clerk, url="https://api.example.com/other")
    token = fake_clerk.oauth_token("opaque", aud=[URL])
    app = mcp_app(ours)

    @app.post("/other")
    async def other_route(a: Annotated[OAuthAuth, Depends(other.auth())]) -> None:
        return None

    async with client_for(app) as client:
        assert (await client.post("/mcp", headers=bearer(token))).status_code == 200
        assert (await client.post("/other", headers=bearer(token))).status_code == 401
        assert (await client.post("/mcp", headers=bearer(token))).status_code == 200
    assert fake_clerk.hits["oauth_verify"] == 1


def test_audience_contains_rejects_junk() -> None:
    assert not audience_contains(None, URL)
    assert not audience_contains(["", "not a url", "javascript:alert(1)"], URL)
    assert audience_contains(["not a url", URL], URL)


# -- type confusion: refused with no network call -----------------------------------------------


async def test_other_token_types_refused_without_network(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(fake_clerk.clerk(), url=URL)
    tokens = {
        "session": fake_clerk.session_token("user_a"),
        "m2m_jwt": fake_clerk.m2m_token("jwt", scopes=[URL]),
        "m2m_opaque": fake_clerk.m2m_token("opaque"),
        "api_key": fake_clerk.api_key(),
        "template": fake_clerk.session_token(header={"cat": "cl_B7d4PD222AAA"}, aud=URL),
        "at+jwt_as_session": fake_clerk.oauth_token("jwt", typ="JWT", aud=URL),
    }
    async with client_for(mcp_app(resource)) as client:
        for name, token in tokens.items():
            answer = await client.post("/mcp", headers=bearer(token))
            assert answer.status_code == 401, name
            assert answer.json()["detail"]["reason"] == "token-type-mismatch", name
    assert sum(fake_clerk.hits.values()) == 0


async def test_authenticate_for_adapters(fake_clerk: FakeClerk) -> None:
    from clerk_fastapi import UpstreamError

    resource = MCPResource(fake_clerk.clerk(), url=URL)
    ok = await resource.authenticate(fake_clerk.oauth_token("jwt", aud=URL, user_id="user_z"))
    assert ok is not None and ok.user_id == "user_z"
    assert resource.matching_audience(ok) == URL
    assert (
        await resource.authenticate(fake_clerk.oauth_token("jwt", aud="https://x.test/mcp")) is None
    )
    assert await resource.authenticate(fake_clerk.session_token()) is None
    opaque = fake_clerk.oauth_token("opaque", aud=[URL])
    fake_clerk.fail("oauth_verify", "down")
    with pytest.raises(UpstreamError, match="may be valid"):
        await resource.authenticate(opaque)


async def test_challenges_name_scopes_to_request_even_when_none_is_required(
    fake_clerk: FakeClerk,
) -> None:
    """The Clerk scope trap: a client told no scope asks Clerk for none (or for ``openid``) and
    is refused. With no required scope the 401 names what the resource advertises."""
    resource = MCPResource(fake_clerk.clerk(), url=URL, scopes_supported=["profile", "email"])
    async with client_for(mcp_app(resource)) as client:
        missing = await client.post("/mcp")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == (
        f'Bearer scope="profile email", resource_metadata="{META}"'
    )


def test_scopes_supported_defaults_to_every_scope_a_call_may_need(fake_clerk: FakeClerk) -> None:
    resource = MCPResource(
        fake_clerk.clerk(), url=URL, scopes=["profile"], tool_scopes={"delete_note": "notes:write"}
    )

    @resource.requires_scopes("notes:admin", tool="purge")
    async def purge_notes() -> None: ...

    assert resource.scopes_supported == ("profile", "notes:write", "notes:admin")
    assert resource.metadata()["scopes_supported"] == ["profile", "notes:write", "notes:admin"]
    assert resource.scopes_for(["purge", "unknown"]) == ("profile", "notes:admin")
    with pytest.raises(ValueError):
        resource.require_tool_scopes("x", [])
    with pytest.raises(ValueError):
        resource.require_tool_scopes("x", ["two words"])
