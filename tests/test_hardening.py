"""Trust boundaries and configuration mistakes, attacked from outside (issue 16 items 7 and 9-15,
issue 20 item 4): over HTTP through a real FastAPI app, or through the public API."""

from __future__ import annotations

import contextlib
import http.server
import logging
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from any_app import api_key_app, bearer, client_for
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from clerk_fastapi import Clerk, ClerkSettings, SessionAuth, SessionDep
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]
# Client addresses the apps see (ASGI peer): the budgets count per client.
ATTACKER = ("203.0.113.7", 5000)
VICTIM = ("198.51.100.9", 6000)


def session_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/me")
    async def me(auth: SessionDep) -> dict[str, Any]:
        assert isinstance(auth, SessionAuth)
        return {"user_id": auth.user_id}

    return app


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# -- item 10: explicit JSON nesting and size limits ---------------------------------------------


async def test_deeply_nested_claims_are_refused_on_every_python(fake_clerk: FakeClerk) -> None:
    # 40 levels parse on every Python (no RecursionError anywhere): only an explicit limit
    # refuses them, so this fails on any version if the limit is gone.
    app = session_app(fake_clerk.clerk())
    deep = fake_clerk.session_token(deep=nested(40))
    shallow = fake_clerk.session_token(deep=nested(30))
    brackets_in_a_string = fake_clerk.session_token(note="[" * 5000 + "{" * 5000)
    async with client_for(app, client=ATTACKER) as client:
        refused = await client.get("/me", headers=bearer(deep))
        assert refused.status_code == 401
        assert refused.json()["detail"]["reason"] == "token-invalid"
        assert (await client.get("/me", headers=bearer(shallow))).status_code == 200
        assert (await client.get("/me", headers=bearer(brackets_in_a_string))).status_code == 200


async def test_deep_header_and_oversized_payload_are_refused(fake_clerk: FakeClerk) -> None:
    app = session_app(fake_clerk.clerk(max_token_length=200_000))
    deep_header = fake_clerk.session_token(header={"x": nested(33)})
    big = fake_clerk.session_token(pad="a" * (70 * 1024))
    async with client_for(app, client=ATTACKER) as client:
        for token in (deep_header, big):
            answer = await client.get("/me", headers=bearer(token))
            assert answer.status_code == 401
            assert answer.json()["detail"]["reason"] == "token-invalid"


# -- item 14: Backend API ids are checked before any request ------------------------------------


@pytest.mark.parametrize(
    "bad", ["ak_\x00x", "ak_x\r\nHost: evil", "ak_../x", "", "ak_é", "a" * 129]
)
async def test_backend_api_ids_are_checked_before_any_request(
    fake_clerk: FakeClerk, bad: str
) -> None:
    clerk = fake_clerk.clerk()
    with pytest.raises(ValueError, match="not a valid Clerk id") as caught:
        await clerk.api_keys.revoke(bad)
    with pytest.raises(ValueError, match="not a valid Clerk id"):
        await clerk.m2m.revoke(bad)
    assert bad not in str(caught.value) or not bad
    assert fake_clerk.requests == []
    await clerk.aclose()


# -- item 7: strangers cannot spend the Backend API quota ---------------------------------------


def random_api_key() -> str:
    return "ak_" + secrets.token_urlsafe(30).replace("-", "a").replace("_", "b")


async def flood(app: FastAPI, count: int, client: tuple[str, int], **headers: str) -> Counter[int]:
    statuses: Counter[int] = Counter()
    async with client_for(app, client=client) as http:
        for _ in range(count):
            answer = await http.get("/k", headers={**bearer(random_api_key()), **headers})
            statuses[answer.status_code] += 1
            if answer.status_code == 503:
                assert int(answer.headers["retry-after"]) >= 1
    return statuses


async def test_one_client_cannot_spend_the_quota_or_starve_others(fake_clerk: FakeClerk) -> None:
    app = api_key_app(fake_clerk.clerk(bapi_rate_limit=30, client_token_budget=10))
    statuses = await flood(app, 200, ATTACKER)
    assert fake_clerk.hits["api_key_verify"] == 10  # 200 random keys cost 10 calls, not 200
    assert statuses == Counter({401: 10, 503: 190})
    async with client_for(app, client=VICTIM) as http:
        answer = await http.get("/k", headers=bearer(fake_clerk.api_key(subject="user_victim")))
    assert answer.status_code == 200, answer.text


async def test_without_a_budget_the_flood_starves_others(fake_clerk: FakeClerk) -> None:
    # The attack the budget stops (so the test above can fail): the guard alone is spent.
    app = api_key_app(fake_clerk.clerk(bapi_rate_limit=30, client_token_budget=0, rate_reserve=0))
    await flood(app, 200, ATTACKER)
    async with client_for(app, client=VICTIM) as http:
        answer = await http.get("/k", headers=bearer(fake_clerk.api_key(subject="user_victim")))
    assert answer.status_code == 503


async def test_a_distributed_flood_leaves_the_reserve_to_known_tokens(
    fake_clerk: FakeClerk,
) -> None:
    app = api_key_app(fake_clerk.clerk(bapi_rate_limit=10, rate_reserve=0.2, client_token_budget=5))
    known = fake_clerk.api_key(subject="user_known")
    async with client_for(app, client=VICTIM) as http:
        assert (await http.get("/k", headers=bearer(known))).status_code == 200
    for index in range(20):  # twenty addresses, one never-seen token each
        await flood(app, 1, (f"192.0.2.{index + 1}", 7000))
    assert fake_clerk.hits["api_key_verify"] == 8  # never-seen tokens get 10 - 20% of the guard
    async with client_for(app, client=VICTIM) as http:
        assert (await http.get("/k", headers=bearer(known))).status_code == 200
        assert (await http.get("/k", headers=bearer(known))).status_code == 200
        # What remains possible: a never-seen valid key waits for the next window.
        fresh = await http.get("/k", headers=bearer(fake_clerk.api_key(subject="user_new")))
        assert fresh.status_code == 503


async def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(fake_clerk: FakeClerk) -> None:
    proxy = ("10.1.2.3", 443)
    clerk = fake_clerk.clerk(client_token_budget=3, trusted_proxies=["10.0.0.0/8"])
    app = api_key_app(clerk)
    # Behind the trusted proxy each forwarded client has its own budget...
    first = await flood(app, 5, proxy, **{"X-Forwarded-For": "203.0.113.50"})
    second = await flood(app, 5, proxy, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.51"})
    assert first == second == Counter({401: 3, 503: 2})
    # ...and a client cannot mint new identities by sending the header itself.
    spoofed = Counter[int]()
    for index in range(5):
        spoofed += await flood(app, 1, ATTACKER, **{"X-Forwarded-For": f"192.0.2.{index}"})
    assert spoofed == Counter({401: 3, 503: 2})
    assert fake_clerk.hits["api_key_verify"] == 9


# -- item 9: cookie sessions and Origin ---------------------------------------------------------


def cookie_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/notes")
    async def read(auth: SessionDep) -> dict[str, str]:
        return {"user": str(auth.user_id)}

    @app.post("/notes")
    async def write(auth: SessionDep) -> dict[str, str]:
        return {"user": str(auth.user_id)}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, auth: SessionDep) -> None:
        await websocket.accept()
        await websocket.send_json({"user": auth.user_id})
        await websocket.close()

    return app


async def test_cookie_requests_need_an_authorized_origin_for_unsafe_methods(
    fake_clerk: FakeClerk,
) -> None:
    app = cookie_app(
        fake_clerk.clerk(session_cookie=True, authorized_parties=[fake_clerk.authorized_party])
    )
    token = fake_clerk.session_token("user_cookie")
    cookie = {"cookie": f"__session={token}; __client_uat={int(fake_clerk.clock()) - 60}"}
    async with client_for(app, client=ATTACKER) as http:
        evil = {**cookie, "origin": "https://evil.test"}
        assert (await http.get("/notes", headers=evil)).status_code == 200  # reading is safe
        for headers in (evil, cookie, {**cookie, "origin": "null"}):
            refused = await http.post("/notes", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["detail"]["reason"] == "origin-not-allowed"
        ours = {**cookie, "origin": fake_clerk.authorized_party}
        assert (await http.post("/notes", headers=ours)).status_code == 200
        # A header token is not ambient authority: the Origin does not matter.
        by_header = {**bearer(token), "origin": "https://evil.test"}
        assert (await http.post("/notes", headers=by_header)).status_code == 200


def test_cookie_websocket_handshake_from_another_origin_is_refused(fake_clerk: FakeClerk) -> None:
    app = cookie_app(
        fake_clerk.clerk(session_cookie=True, authorized_parties=[fake_clerk.authorized_party])
    )
    uat = int(fake_clerk.clock()) - 60  # the browser's last sign-in change, before the token
    cookie = {"cookie": f"__session={fake_clerk.session_token('user_ws')}; __client_uat={uat}"}
    with TestClient(app) as client:
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws", headers={**cookie, "origin": "https://evil.test"}) as s,
        ):
            s.receive_json()
        assert refused.value.code == 1008
        assert refused.value.reason == "invalid_token:origin-not-allowed"
        with client.websocket_connect(
            "/ws", headers={**cookie, "origin": fake_clerk.authorized_party}
        ) as s:
            assert s.receive_json() == {"user": "user_ws"}


def test_cookie_auth_without_authorized_parties_warns_at_start_up(
    fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clerk_fastapi"):
        fake_clerk.clerk(session_cookie=True)
    assert any(
        "CLERK_AUTHORIZED_PARTIES" in r.getMessage() and "__session" in r.getMessage()
        for r in caplog.records
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="clerk_fastapi"):
        fake_clerk.clerk(session_cookie=True, authorized_parties=[fake_clerk.authorized_party])
        fake_clerk.clerk()
    assert not caplog.records


# -- item 11: secret fields are trimmed, never echoed -------------------------------------------

KEY = "sk_test_" + "Q7x" * 14


@pytest.mark.parametrize("given", [f'"{KEY}"', f"'{KEY}'", f"  {KEY}\n", f' " {KEY} " '])
def test_secret_key_from_an_env_file_is_trimmed(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv("CLERK_SECRET_KEY", given)
    assert ClerkSettings().secret() == KEY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", KEY[:-1] + "!"),  # one character off
        ("secret_key", "rk_live_" + "Q7x" * 14),
        ("secret_key", KEY + " " + KEY),
        ("jwt_key", "-----BEGIN PUBLIC KEY-----" + "Q7x" * 14),
        ("secret_key", "Bearer " + KEY),
    ],
)
def test_validation_errors_never_echo_a_secret(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv(f"CLERK_{field.upper()}", value)
    with pytest.raises(ValidationError) as caught:
        ClerkSettings()
    shown = str(caught.value) + repr(caught.value)  # what a traceback or a log prints
    assert "Q7xQ7x" not in shown
    assert f"CLERK_{field.upper()}" in shown or field in shown


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("sk_live_...", "placeholder"),
        ("sk_test_<your-key>", "placeholder"),
        ("sk_test_abc", "too short"),
        ("sk_prod_" + "a" * 40, "sk_test_ or sk_live_"),
    ],
)
def test_placeholder_secret_keys_fail_with_a_reason(value: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=hint):
        ClerkSettings(secret_key=value)


@pytest.mark.parametrize(
    ("party", "hint"),
    [
        ("https://app.example.com/", "no trailing '/'"),
        ("app.example.com", "needs a scheme"),
        ("https://app.example.com/login", "no path"),
    ],
)
def test_authorized_parties_must_be_origins(party: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=hint) as caught:
        ClerkSettings(authorized_parties=[party], jwt_key=FakeClerk().signing_key.public_pem())
    assert party in str(caught.value)  # an origin is no secret: the message names it


# -- item 12: userinfo is masked wherever a URL is printed --------------------------------------


def test_urls_print_without_their_passwords(
    fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clerk_fastapi"):
        clerk = Clerk(
            fake_clerk.settings(
                api_url="http://admin:hunter2@clerk.internal.example",
                cache_url="redis://default:hunter2@redis.internal:6379/0",
                http_proxy="http://proxyuser:hunter2@proxy.internal:3128",
            )
        )
    shown = [repr(clerk.settings), str(clerk.settings), repr(clerk), str(clerk)]
    shown += [r.getMessage() for r in caplog.records]
    assert any("plain http" in text for text in shown)
    assert all("hunter2" not in text for text in shown)
    assert "redis://***@redis.internal:6379/0" in repr(clerk.settings)


# -- item 13: settings given in code are never replaced by the environment ----------------------


async def test_a_clerk_configured_in_code_but_not_attached_is_a_clear_error(
    fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment would build a Clerk with no authorized parties...
    monkeypatch.setenv("CLERK_SECRET_KEY", fake_clerk.secret_key)
    monkeypatch.setenv("CLERK_API_URL", fake_clerk.api_url)
    # ...while the app configured one in code and forgot to attach it.
    strict = fake_clerk.clerk(authorized_parties=["https://admin.test"])
    app = FastAPI()

    @app.get("/me")
    async def me(auth: SessionDep) -> dict[str, str]:
        return {"user": str(auth.user_id)}

    token = fake_clerk.session_token(azp="https://evil.test")
    async with client_for(app, client=ATTACKER) as http:
        with pytest.raises(ConfigurationError, match=r"clerk\.install\(app\)") as caught:
            await http.get("/me", headers=bearer(token))
    assert "lifespan=clerk.lifespan" in str(caught.value)
    # Attached, its own rules apply.
    strict.install(app)
    async with client_for(app, client=ATTACKER) as http:
        assert (await http.get("/me", headers=bearer(token))).status_code == 401


def test_auth_with_no_clerk_at_all_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLERK_SECRET_KEY", "CLERK_JWT_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = FastAPI()

    @app.get("/me")
    async def me(auth: SessionDep) -> dict[str, str]:
        return {"user": str(auth.user_id)}

    with TestClient(app) as client, pytest.raises(ConfigurationError, match="No Clerk is attached"):
        client.get("/me")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/me").status_code == 500


# -- item 15: the demo never runs against real credentials --------------------------------------


def _wait_until_listening(banner: str) -> None:
    match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
    if match is None:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", int(match[1])), timeout=1),
        ):
            return
        time.sleep(0.05)


@pytest.mark.parametrize("variable", ["CLERK_JWT_KEY", "CLERK_SECRET_KEY"])
def test_demo_never_mints_tokens_with_real_credentials(variable: str) -> None:
    fake_clerk = FakeClerk()
    value = (
        fake_clerk.signing_key.public_pem()
        if variable == "CLERK_JWT_KEY"
        else fake_clerk.secret_key
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    # A loopback API URL nobody listens on: the real-instance path must not reach the internet.
    env.update(
        {variable: value, "CLERK_API_URL": "http://127.0.0.1:9", "CLERK_STARTUP_TIMEOUT": "0.2"}
    )
    env["PYTHONUNBUFFERED"] = "1"  # the banner and the log lines arrive in the order written
    proc = subprocess.Popen(
        [sys.executable, "-m", "example_app", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while len(lines) < 20 and time.monotonic() < deadline:
            # Up to the banner (a warm-up warning may come first); never block past the deadline.
            ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
            line = proc.stdout.readline() if ready else ""
            if not line:
                break
            lines.append(line)
            if "against your Clerk instance" in line:
                _wait_until_listening(line)  # SIGINT once the server handles it
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a busy machine: the verdict is in what it printed
            proc.kill()
            rest, _ = proc.communicate()
    output = "".join(lines) + rest
    assert any("against your Clerk instance" in line for line in lines), output
    assert "fake" not in output.lower()
    assert "Bearer" not in output and "eyJ" not in output and "curl" not in output


# -- issue 20 item 4: configuration mistakes are early and explained ----------------------------


async def test_failed_warm_up_logs_url_and_cause_without_secrets(
    fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    clerk = fake_clerk.clerk()
    fake_clerk.fail("jwks", "status", status=404)
    with caplog.at_level(logging.WARNING, logger="clerk_fastapi"):
        await clerk.warm_up()
    (record,) = [r for r in caplog.records if "warm-up" in r.getMessage()]
    message = record.getMessage()
    assert f"{fake_clerk.api_url}/v1/jwks" in message
    assert "status 404" in message
    assert fake_clerk.secret_key not in message
    await clerk.aclose()

    caplog.clear()
    down = Clerk(fake_clerk.settings(api_url="http://user:hunter2@127.0.0.1:9"))
    with caplog.at_level(logging.WARNING, logger="clerk_fastapi"):
        await down.warm_up()
    message = " ".join(r.getMessage() for r in caplog.records if "warm-up" in r.getMessage())
    assert "http://***@127.0.0.1:9/v1/jwks" in message
    assert "ConnectError" in message or "did not" in message
    assert "hunter2" not in message
    await down.aclose()


def test_env_file_is_read_when_given_and_the_environment_wins(
    fake_clerk: FakeClerk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLERK_SECRET_KEY", "CLERK_AUTHORIZED_PARTIES", "CLERK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        f'CLERK_SECRET_KEY="{fake_clerk.secret_key}"\n'
        "CLERK_AUTHORIZED_PARTIES=https://app.test\n"
        "CLERK_API_URL=https://from-file.example\n"
    )
    monkeypatch.setenv("CLERK_API_URL", "https://from-env.example")
    clerk = Clerk(env_file=env_file)
    assert clerk.settings.secret() == fake_clerk.secret_key
    assert clerk.settings.authorized_parties == ["https://app.test"]
    assert clerk.settings.api_url == "https://from-env.example"
    with pytest.raises(ConfigurationError, match="is not a file"):
        Clerk(env_file=tmp_path / "missing.env")


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy on loopback that sends everything to one upstream."""

    upstream = ""
    seen: list[str] = []

    def _forward(self) -> None:
        type(self).seen.append(self.path)
        target = self.upstream + httpx.URL(self.path).raw_path.decode()
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")
        }
        answer = httpx.request(self.command, target, headers=headers, content=body)
        self.send_response(answer.status_code)
        for name in ("content-type", "retry-after"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _forward

    def log_message(self, *args: Any) -> None:
        return None


async def test_http_proxy_setting_routes_calls_to_clerk(fake_clerk: FakeClerk) -> None:
    with fake_clerk.serve() as upstream:
        _ForwardProxy.upstream, _ForwardProxy.seen = upstream, []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            proxy = f"http://127.0.0.1:{server.server_address[1]}"
            # A host that does not resolve: only the proxy can reach "Clerk".
            clerk = Clerk(
                fake_clerk.settings(api_url="http://clerk-api.invalid", http_proxy=proxy),
                clock=fake_clerk.clock,
            )
            app = api_key_app(clerk)
            async with client_for(app, client=ATTACKER) as client:
                answer = await client.get(
                    "/k", headers=bearer(fake_clerk.api_key(subject="user_p"))
                )
            assert answer.status_code == 200, answer.text
            assert "http://clerk-api.invalid/api_keys/verify" in _ForwardProxy.seen
            await clerk.aclose()
        finally:
            server.shutdown()
            server.server_close()


def test_http_proxy_must_be_a_url() -> None:
    with pytest.raises(ValidationError, match="CLERK_HTTP_PROXY"):
        ClerkSettings(http_proxy="proxy:3128", jwt_key=FakeClerk().signing_key.public_pem())
