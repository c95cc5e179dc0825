"""One budget for every way in (issue 24 item 2): routes, ``authenticate_token``, the MCP
adapters and ``clerk.<api>.verify`` all count a Backend API call against the client it came
from (or one shared bucket when there is none), with the fleet-wide guard in a real Redis.
A valid key replayed by one customer cannot spend another customer's share, and
``X-Forwarded-For`` hops with ports parse.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from any_app import api_key_app
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk
from clerk_fastapi.errors import TokenVerificationError, UpstreamError
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
ATTACKER = ("203.0.113.7", 5000)
VICTIM = ("198.51.100.9", 6000)
BUDGET = 5
FLOOD = 30


def random_oat() -> str:
    return "oat_" + secrets.token_urlsafe(30).replace("-", "a").replace("_", "b")


def budget_clerk(fake_clerk: FakeClerk, redis_url: str, **extra: Any) -> Clerk:
    return fake_clerk.clerk(
        cache_url=redis_url, cache_timeout=5.0, client_token_budget=BUDGET, **extra
    )


# -- every entry point, one client flooding random oat_ tokens ---------------------------------

Send = Callable[[str, tuple[str, int]], Awaitable[int]]


def route_sender(clerk: Clerk) -> Send:
    app = FastAPI()
    clerk.install(app)

    @app.get("/o")
    async def o(auth: object = Depends(Auth(accepts="oauth_token"))) -> dict[str, str]:
        return {}

    return asgi_sender(app, "/o", "GET")


def asgi_sender(app: Any, path: str, method: str) -> Send:
    async def send(token: str, client: tuple[str, int]) -> int:
        transport = httpx.ASGITransport(app=app, client=client, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            answer = await http.request(
                method,
                path,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json, text/event-stream",
                    "Content-Type": "application/json",
                },
                content=b"{}" if method == "POST" else None,
            )
            return answer.status_code

    return send


def authenticate_token_sender(clerk: Clerk) -> Send:
    async def send(token: str, client: tuple[str, int]) -> int:
        state = await clerk.authenticate_token(token, "oauth_token", client=client[0])
        return 503 if state.error == "unavailable" else 401 if state.error else 200

    return send


def client_verify_sender(clerk: Clerk) -> Send:
    async def send(token: str, client: tuple[str, int]) -> int:
        try:
            await clerk.oauth_tokens.verify(token, client=client[0])
        except TokenVerificationError:
            return 401
        except UpstreamError:
            return 503
        return 200

    return send


def sdk_sender(clerk: Clerk) -> Send:
    pytest.importorskip("mcp")
    from mcp.server.mcpserver import MCPServer

    from clerk_fastapi.mcp import MCPResource
    from clerk_fastapi.mcp.sdk import ClerkTokenVerifier, auth_settings

    resource = MCPResource(clerk, url="http://127.0.0.1/mcp")
    mcp = MCPServer("x", token_verifier=ClerkTokenVerifier(resource), auth=auth_settings(resource))
    app = FastAPI()
    clerk.install(app)
    app.mount("/", mcp.streamable_http_app(streamable_http_path="/mcp"))
    return asgi_sender(app, "/mcp", "POST")


def fastmcp_sender(clerk: Clerk) -> Send:
    pytest.importorskip("fastmcp")
    from fastmcp import FastMCP

    from clerk_fastapi.mcp import MCPResource
    from clerk_fastapi.mcp.fastmcp import clerk_remote_auth

    resource = MCPResource(clerk, url="http://127.0.0.1/mcp")
    mcp = FastMCP("x", auth=clerk_remote_auth(resource))
    app = FastAPI()
    clerk.install(app)
    app.mount("/", mcp.http_app(path="/mcp"))
    return asgi_sender(app, "/mcp", "POST")


ENTRY_POINTS = {
    "route": route_sender,
    "authenticate_token": authenticate_token_sender,
    "clerk.oauth_tokens.verify": client_verify_sender,
    "mcp-sdk": sdk_sender,
    "fastmcp": fastmcp_sender,
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
async def test_every_entry_point_counts_against_the_client(
    fake_clerk: FakeClerk, redis_url: str, entry: str
) -> None:
    send = ENTRY_POINTS[entry](budget_clerk(fake_clerk, redis_url))
    statuses = [await send(random_oat(), ATTACKER) for _ in range(FLOOD)]
    assert fake_clerk.hits["oauth_verify"] == BUDGET  # 30 random tokens cost 5 calls, not 30
    assert statuses[:BUDGET] == [401] * BUDGET
    assert all(status != 200 for status in statuses)
    # Another client has its own budget, and its valid token is verified.
    valid = fake_clerk.oauth_token("opaque", aud="http://127.0.0.1/mcp")
    assert await send(valid, VICTIM) != 503
    assert fake_clerk.hits["oauth_verify"] == BUDGET + 1


async def test_verifications_without_a_client_share_one_bucket(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clerk = budget_clerk(fake_clerk, redis_url)
    states = [await clerk.authenticate_token(random_oat(), "oauth_token") for _ in range(FLOOD)]
    assert fake_clerk.hits["oauth_verify"] == BUDGET
    assert [s.error for s in states[BUDGET:]] == ["unavailable"] * (FLOOD - BUDGET)
    with pytest.raises(UpstreamError):
        await clerk.api_keys.verify("ak_" + "x" * 40)
    assert fake_clerk.hits["api_key_verify"] == 0


def at_a_window_start(fake_clerk: FakeClerk, window: int) -> FrozenClock:
    """The fake's clock moved to the start of a shared window: the fleet's windows are aligned
    on the clock, and a test that advances it must not cross into a new window (and a new
    share) at whatever time of day it runs."""
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    clock.set((clock() // window + 1) * window)
    return clock


# -- a valid key replayed by one customer ------------------------------------------------------


async def test_one_customer_replaying_its_key_cannot_starve_another(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """The opaque cache is off (instant revocation): each replay asks Clerk. 20 calls per
    600 s fleet-wide; the greedy customer's valid key used to take every one of them."""
    clock = at_a_window_start(fake_clerk, 600)
    clerk = fake_clerk.clerk(
        cache_url=redis_url, cache_timeout=5.0, bapi_rate_limit=20, bapi_rate_window=600
    )
    app = api_key_app(clerk)
    greedy, other = (
        fake_clerk.api_key(subject="user_greedy"),
        fake_clerk.api_key(subject="user_other"),
    )
    send = asgi_sender(app, "/k", "GET")
    assert await send(other, VICTIM) == 200  # recently verified, like the greedy one
    replays = []
    for _ in range(40):
        clock.advance(2)  # past the fleet's coalescing window: a new Backend API call
        replays.append(await send(greedy, ATTACKER))
    assert 200 in replays and replays[-1] == 503  # the greedy customer is held to its share
    # Its first verification (never seen), then its share of the limit (20 * 0.25) of replays.
    assert replays.count(200) == 1 + 20 // 4
    assert await send(other, VICTIM) == 200
    assert await send(fake_clerk.api_key(subject="user_new"), ("192.0.2.55", 1)) == 200


# -- the budgets are the fleet's, not each worker's ------------------------------------------


async def test_a_client_has_one_budget_across_the_workers(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """Two workers of one service share Redis: a client flooding both alternately gets one
    budget in all (each worker used to give it a budget of its own)."""
    workers = [route_sender(budget_clerk(fake_clerk, redis_url)) for _ in range(2)]
    statuses = [await workers[i % 2](random_oat(), ATTACKER) for i in range(FLOOD)]
    assert fake_clerk.hits["oauth_verify"] == BUDGET
    assert statuses[:BUDGET] == [401] * BUDGET and set(statuses[BUDGET:]) == {503}


async def test_a_customers_share_is_counted_across_the_workers(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """The greedy customer replays its valid key through two workers: one share of the fleet's
    limit in all, and the other customer is still served."""
    clock = at_a_window_start(fake_clerk, 600)
    limits = dict(cache_url=redis_url, cache_timeout=5.0, bapi_rate_limit=20, bapi_rate_window=600)
    workers = [asgi_sender(api_key_app(fake_clerk.clerk(**limits)), "/k", "GET") for _ in "ab"]
    greedy, other = (
        fake_clerk.api_key(subject="user_greedy"),
        fake_clerk.api_key(subject="user_other"),
    )
    assert await workers[0](other, VICTIM) == 200
    replays = []
    for i in range(40):
        clock.advance(2)
        replays.append(await workers[i % 2](greedy, ATTACKER))
    # Each worker's first sight of the key is a never-seen token (its own budget); then the
    # replays share 20 * 0.25 = 5 across both workers (10 when each worker counted its own).
    assert replays.count(200) == 2 + 20 // 4 and replays[-1] == 503
    assert await workers[1](other, VICTIM) == 200


# -- X-Forwarded-For with ports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("203.0.113.50:41000", "203.0.113.51:41001"),
        ("[2001:db8:1::5]:443", "[2001:db8:2::5]:443"),
        ("[2001:db8:1::5]", "2001:db8:2::5"),
    ],
)
async def test_forwarded_hops_with_ports_each_get_their_budget(
    fake_clerk: FakeClerk, first: str, second: str
) -> None:
    app = api_key_app(fake_clerk.clerk(client_token_budget=3, trusted_proxies=["10.0.0.0/8"]))
    proxy = ("10.1.2.3", 443)

    async def flood(forwarded: str) -> list[int]:
        statuses = []
        transport = httpx.ASGITransport(app=app, client=proxy)
        async with httpx.AsyncClient(transport=transport, base_url="http://a") as http:
            for _ in range(4):
                key = "ak_" + secrets.token_urlsafe(30).replace("-", "a").replace("_", "b")
                answer = await http.get(
                    "/k",
                    headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": forwarded},
                )
                statuses.append(answer.status_code)
        return statuses

    assert await flood(first) == [401, 401, 401, 503]
    assert await flood(second) == [401, 401, 401, 503]  # not the proxy's shared budget
    assert fake_clerk.hits["api_key_verify"] == 6


@pytest.mark.parametrize(
    ("hop", "address"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("203.0.113.5:41000", "203.0.113.5"),
        ("[2001:db8::5]:443", "2001:db8::5"),
        ("[2001:DB8::5]", "2001:db8::5"),
        ("2001:db8::5", "2001:db8::5"),
        ("203.0.113.5:", None),
        ("203.0.113.5:http", None),
        ("203.0.113.5:٣", None),  # a non-ASCII digit is not a port
        ("[2001:db8::5", None),
        ("[2001:db8::5]x", None),
        ("unknown", None),
        ("_hidden", None),
    ],
)
def test_hop_address(hop: str, address: str | None) -> None:
    from clerk_fastapi.auth.client import hop_address

    assert hop_address(hop) == address
