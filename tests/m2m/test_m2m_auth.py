"""The calling side (``clerk.m2m.auth()``, an ``httpx.Auth``) and the receiving side's "who may
call" (``Auth(machines=...)``, ``M2MAuth.scoped_to_receiver``), in-process against the fake."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import httpx
import pytest
from any_app import client_for
from fastapi import Depends, FastAPI, Request
from starlette.responses import JSONResponse, Response

from clerk_fastapi import (
    Auth,
    ClerkAPIError,
    ClerkNetworkError,
    ConfigurationError,
    M2MAuth,
)
from clerk_fastapi.testing import FakeClerk, FrozenClock
from clerk_fastapi.testing.fake.server import serve_asgi

# A loopback host: ClerkM2MAuth refuses to send a token over plain http to any other.
RECEIVER = "http://b.localhost"
pytestmark = pytest.mark.anyio


def receiver(fake: FakeClerk, caller_id: str, **settings: Any) -> FastAPI:
    """Service B: echoes who called and what it sent."""
    app = FastAPI()
    fake.clerk(**settings).install(app)

    @app.post("/echo")
    async def echo(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))], request: Request
    ) -> dict[str, Any]:
        return {
            "machine": caller.machine_id,
            "scoped_to_receiver": caller.scoped_to_receiver,
            "body": (await request.body()).decode(),
        }

    only_the_caller = Auth(accepts="m2m_token", machines=[caller_id])

    @app.get("/only-a")
    async def only_a(caller: M2MAuth = Depends(only_the_caller)) -> dict[str, str]:
        return {"machine": caller.machine_id}

    return app


async def test_one_token_for_many_concurrent_requests() -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    async with client_for(receiver(fake, a.id), auth=auth, base_url=RECEIVER) as client:
        answers = await asyncio.gather(*(client.post("/echo", content=f"{i}") for i in range(50)))
    assert [r.status_code for r in answers] == [200] * 50
    assert {r.json()["machine"] for r in answers} == {a.id}
    assert sorted(int(r.json()["body"]) for r in answers) == list(range(50))
    assert fake.hits["m2m_create"] == 1
    create = next(r for r in fake.requests if r.endpoint == "m2m_create")
    assert create.headers["authorization"] == f"Bearer {a.secret_key}"
    assert auth.token_id is not None and auth.token_id.startswith("mt_")


async def test_renewed_shortly_before_expiry_once_for_all() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    a, _ = fake.machines_that_talk()
    clerk = fake.clerk(machine_secret_key=a.secret_key)
    auth = clerk.m2m.auth(seconds_until_expiration=600, renew_before=60)
    async with client_for(receiver(fake, a.id), auth=auth, base_url=RECEIVER) as client:
        assert (await client.post("/echo")).status_code == 200
        first = auth.token_id
        clock.advance(539)  # 61 s left: still kept
        assert (await client.post("/echo")).status_code == 200
        assert (auth.token_id, fake.hits["m2m_create"]) == (first, 1)
        clock.advance(2)  # 59 s left: renewed, once for all concurrent requests
        answers = await asyncio.gather(*(client.post("/echo") for _ in range(20)))
        assert [r.status_code for r in answers] == [200] * 20
        assert fake.hits["m2m_create"] == 2 and auth.token_id != first


async def test_a_short_token_is_renewed_at_half_its_life() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    a, _ = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth(seconds_until_expiration=30)
    async with client_for(receiver(fake, a.id), auth=auth, base_url=RECEIVER) as client:
        await client.post("/echo")
        clock.advance(14)
        await client.post("/echo")
        assert fake.hits["m2m_create"] == 1
        clock.advance(2)
        await client.post("/echo")
        assert fake.hits["m2m_create"] == 2


async def test_revoked_token_renewed_once_and_request_retried_once() -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    clerk = fake.clerk(machine_secret_key=a.secret_key)
    auth = clerk.m2m.auth(min_remaining_ttl_seconds=600)
    async with client_for(receiver(fake, a.id), auth=auth, base_url=RECEIVER) as client:
        assert (await client.post("/echo", content="first")).status_code == 200
        await fake.clerk().m2m.revoke(str(auth.token_id))
        answers = await asyncio.gather(*(client.post("/echo", content="again") for _ in range(20)))
    assert [r.status_code for r in answers] == [200] * 20
    assert {r.json()["body"] for r in answers} == {"again"}  # the body was sent again
    assert fake.hits["m2m_create"] == 2  # one renewal for the 20 refused requests
    first, renewal = [r.json for r in fake.requests if r.endpoint == "m2m_create"]
    assert first is not None and first["min_remaining_ttl_seconds"] == 600
    # After a 401, a new token is asked for: Clerk could hand back the refused one otherwise.
    assert renewal is not None and "min_remaining_ttl_seconds" not in renewal


async def test_a_second_401_is_returned_not_retried_again() -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    seen: list[str] = []

    async def always_401(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["headers"])[b"authorization"].decode())
        response: Response = JSONResponse({"error": "no"}, status_code=401)
        await response(scope, receive, send)

    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    async with client_for(always_401, auth=auth, base_url=RECEIVER) as client:
        response = await client.get("/")
    assert response.status_code == 401
    assert len(seen) == 2 and seen[0] != seen[1]  # retried once, with a new token
    assert fake.hits["m2m_create"] == 2


async def test_jwt_tokens_and_claims() -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth(
        token_format="jwt", claims={"job": "sync"}
    )
    async with client_for(
        receiver(fake, a.id, machine_id=b.id), auth=auth, base_url=RECEIVER
    ) as client:
        answer = await client.post("/echo")
    assert answer.status_code == 200
    assert answer.json()["machine"] == a.id and answer.json()["scoped_to_receiver"] is True
    create = next(r for r in fake.requests if r.endpoint == "m2m_create")
    assert create.json == {"claims": {"job": "sync"}, "token_format": "jwt"}
    assert fake.hits["m2m_verify"] == 0  # B verified the JWT locally


async def test_errors_creating_a_token_are_raised_and_never_show_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    clerk = fake.clerk(machine_secret_key=a.secret_key, http_timeout=0.5)
    auth = clerk.m2m.auth()
    seen: list[str] = []
    async with client_for(receiver(fake, a.id), auth=auth, base_url=RECEIVER) as client:
        fake.fail("m2m_create", "down")
        with pytest.raises(ClerkNetworkError) as down:
            await client.post("/echo")
        seen += [str(down.value), repr(down.value)]
        fake.heal()
        assert (await client.post("/echo")).status_code == 200
        token = fake.requests[-1].headers["authorization"].removeprefix("Bearer ")
        seen += [repr(auth), str(auth)]
        assert auth.token_id is not None and auth.token_id in repr(auth)
    wrong = fake.clerk(machine_secret_key="ak_" + "w" * 40).m2m.auth()
    async with client_for(receiver(fake, a.id), auth=wrong, base_url=RECEIVER) as client:
        with pytest.raises(ClerkAPIError) as refused:
            await client.post("/echo")
    assert refused.value.code == "machine_secret_key_invalid"
    seen += [str(refused.value), repr(refused.value), caplog.text]
    for text in seen:
        for secret in (token, a.secret_key, "ak_" + "w" * 40, fake.secret_key):
            assert secret not in text


async def test_configuration_mistakes() -> None:
    fake = FakeClerk()
    with pytest.raises(ConfigurationError, match="CLERK_MACHINE_SECRET_KEY"):
        fake.clerk().m2m.auth()  # the instance key cannot create tokens
    m2m = fake.clerk(machine_secret_key=fake.machine_secret_key).m2m
    with pytest.raises(ValueError):
        m2m.auth(token_format="jwt", min_remaining_ttl_seconds=10)
    with pytest.raises(ValueError):
        m2m.auth(seconds_until_expiration=60, min_remaining_ttl_seconds=60)
    with pytest.raises(ValueError):
        m2m.auth(renew_before=-1)
    sync_client = httpx.Client(auth=m2m.auth(), base_url="http://127.0.0.1:9")
    with sync_client, pytest.raises(RuntimeError, match="AsyncClient"):
        sync_client.get("/")


# -- the receiving side: who may call ----------------------------------------------------------


async def test_only_listed_machines_may_call() -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    c = fake.add_machine("service-c")
    app = receiver(fake, a.id, machine_id=b.id)
    async with client_for(
        app,
        auth=fake.clerk(machine_secret_key=a.secret_key).m2m.auth(),
        base_url=RECEIVER,
    ) as client:
        allowed = await client.get("/only-a")
        echoed = await client.post("/echo")
    assert allowed.status_code == 200 and allowed.json() == {"machine": a.id}
    assert echoed.json()["scoped_to_receiver"] is True
    async with client_for(
        app,
        auth=fake.clerk(machine_secret_key=c.secret_key).m2m.auth(),
        base_url=RECEIVER,
    ) as client:
        refused = await client.get("/only-a")
        unscoped = await client.post("/echo")
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="machines"'
    )
    assert a.id not in refused.text + refused.headers["www-authenticate"]  # allowlist not shown
    assert unscoped.status_code == 200 and unscoped.json()["scoped_to_receiver"] is False
    assert fake.hits["m2m_create"] == 2  # no renewal on a 403

    # Without CLERK_MACHINE_ID the receiver cannot tell.
    unknown = receiver(fake, a.id)
    async with client_for(
        unknown,
        auth=fake.clerk(machine_secret_key=a.secret_key).m2m.auth(),
        base_url=RECEIVER,
    ) as cl:
        assert (await cl.post("/echo")).json()["scoped_to_receiver"] is None


async def test_machines_argument_is_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="accepts"):
        Auth(accepts=["m2m_token", "session_token"], machines=["mch_1"])
    with pytest.raises(ValueError, match="accepts"):
        Auth(machines=["mch_1"])  # sessions by default
    with pytest.raises(ValueError, match="mch_"):
        Auth(accepts="m2m_token", machines=["user_1"])
    with pytest.raises(ValueError):
        Auth(accepts="m2m_token", machines=["mch 1"])
    assert Auth(accepts="m2m_token", machines="mch_1").requirements.machines == ("mch_1",)


async def test_machines_fail_closed_for_other_principals() -> None:
    from clerk_fastapi import SessionAuth

    auth = Auth(accepts="m2m_token", machines=["mch_1"])
    assert auth.missing(SessionAuth(user_id="user_1")) == ["machines"]
    assert auth.missing(M2MAuth(id="mt_1", subject="mch_2", machine_id="mch_2")) == ["machines"]
    assert auth.missing(M2MAuth(id="mt_1", subject="mch_1", machine_id="mch_1")) == []


async def test_a_streamed_body_is_sent_again_on_the_retry() -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()

    async def chunks() -> Any:
        for part in (b"one,", b"two"):
            yield part

    # A real socket: httpx sends the whole body before the 401 (in-process, B would not read it).
    with serve_asgi(receiver(fake, a.id)) as url:
        async with httpx.AsyncClient(base_url=url, auth=auth, timeout=60) as client:
            assert (await client.post("/echo")).status_code == 200
            await fake.clerk().m2m.revoke(str(auth.token_id))
            answer = await client.post("/echo", content=chunks())
    assert answer.status_code == 200 and answer.json()["body"] == "one,two"
    assert fake.hits["m2m_create"] == 2


# -- issue 24 item 3: the calling side fails safe -------------------------------------------------


def refusing_target(seen: list[str]) -> Any:
    async def always_401(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["headers"])[b"authorization"].decode())
        response: Response = JSONResponse({"error": "no"}, status_code=401)
        await response(scope, receive, send)

    return always_401


async def test_a_target_that_refuses_everything_gets_bounded_token_creations() -> None:
    """It used to create a new token on every request (11 for 10 requests, none revoked)."""
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    a, _ = fake.machines_that_talk()
    seen: list[str] = []
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    async with client_for(refusing_target(seen), auth=auth, base_url=RECEIVER) as client:
        answers = [await client.get("/") for _ in range(10)]
        assert [r.status_code for r in answers] == [401] * 10
        assert fake.hits["m2m_create"] == 2  # the first token and one renewal
        assert len(seen) == 11  # one retry, then the 401s go back as they are
        created = [fake.hits["m2m_create"]]
        for wait in (5, 10, 20, 40, 60, 60):  # the back-off doubles up to a minute
            clock.advance(wait - 0.5)
            await client.get("/")
            before = fake.hits["m2m_create"]
            clock.advance(0.5)
            await client.get("/")
            await client.get("/")
            created.append(fake.hits["m2m_create"])
            assert before == created[-2]  # nothing before the back-off ends
        assert created == [2, 3, 4, 5, 6, 7, 8]


async def test_concurrent_refusals_of_one_fresh_token_count_once() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    a, _ = fake.machines_that_talk()
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    async with client_for(refusing_target([]), auth=auth, base_url=RECEIVER) as client:
        await asyncio.gather(*(client.get("/") for _ in range(20)))
        assert fake.hits["m2m_create"] == 2
        clock.advance(5)  # the first back-off step, not 20 steps
        await client.get("/")
    assert fake.hits["m2m_create"] == 3


async def test_an_accepted_answer_resets_the_back_off() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    a, _ = fake.machines_that_talk()
    refuse = {"on": True}

    async def target(scope: Any, receive: Any, send: Any) -> None:
        status = 401 if refuse["on"] else 200
        await JSONResponse({}, status_code=status)(scope, receive, send)

    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    async with client_for(target, auth=auth, base_url=RECEIVER) as client:
        await client.get("/")
        refuse["on"] = False
        assert (await client.get("/")).status_code == 200
        refuse["on"] = True
        await client.get("/")  # refused again: renews at once, no back-off left over
    assert fake.hits["m2m_create"] == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://orders.internal/x",
        "http://10.0.0.5/x",
        "http://api.example.com/x",
        "http://[2001:db8::1]/x",
    ],
)
async def test_plain_http_to_a_non_loopback_host_is_refused(url: str) -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    seen: list[str] = []
    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    transport = httpx.ASGITransport(app=refusing_target(seen))
    async with httpx.AsyncClient(transport=transport, auth=auth) as client:
        with pytest.raises(ConfigurationError, match="plain_http_inside_private_network") as caught:
            await client.get(url)
    assert seen == [] and fake.hits["m2m_create"] == 0  # nothing sent, no token created
    assert "RFC 6750" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8000/x", "http://b.localhost/x", "http://127.0.0.9/x", "http://[::1]/x"],
)
async def test_plain_http_to_loopback_and_the_named_opt_in_are_allowed(url: str) -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    seen: list[str] = []
    clerk = fake.clerk(machine_secret_key=a.secret_key)
    transport = httpx.ASGITransport(app=refusing_target(seen))
    async with httpx.AsyncClient(transport=transport, auth=clerk.m2m.auth()) as client:
        await client.get(url)
    opted_in = clerk.m2m.auth(plain_http_inside_private_network=True)
    async with httpx.AsyncClient(transport=transport, auth=opted_in) as client:
        await client.get("http://orders.internal/x")
    assert len(seen) == 4


async def test_a_redirect_to_another_origin_never_carries_the_token() -> None:
    fake = FakeClerk()
    a, _ = fake.machines_that_talk()
    headers: dict[str, str | None] = {}

    async def target(scope: Any, receive: Any, send: Any) -> None:
        host = dict(scope["headers"])[b"host"].decode()
        headers[host] = dict(scope["headers"]).get(b"authorization", b"").decode() or None
        if host == "b.localhost":
            response: Response = Response(
                status_code=307, headers={"location": "https://evil.example/steal"}
            )
        else:
            response = JSONResponse({})
        await response(scope, receive, send)

    auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
    transport = httpx.ASGITransport(app=target)
    async with httpx.AsyncClient(
        transport=transport, auth=auth, follow_redirects=True, base_url="http://b.localhost"
    ) as client:
        answer = await client.get("/")
    assert answer.status_code == 200
    assert headers["b.localhost"] is not None and headers["b.localhost"].startswith("Bearer ")
    assert headers["evil.example"] is None
