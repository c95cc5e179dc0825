"""``python -m clerk_fastapi.testing``: ``serve`` and ``mint`` run as subprocesses, and the tokens
``mint`` prints are verified by an app whose ``Clerk`` points at the ``serve``d fake."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, AuthObject, Clerk
from clerk_fastapi._version import __version__
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing._cli.args import build_parser

CLI = [sys.executable, "-m", "clerk_fastapi.testing"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def mint(*args: str) -> str:
    result = cli("mint", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Served:
    def __init__(self, state: Path, key_file: Path, settings: dict[str, str]) -> None:
        self.state = state
        self.key_file = key_file
        self.settings = settings

    def app(self) -> FastAPI:
        clerk = Clerk(
            secret_key=self.settings["CLERK_SECRET_KEY"],
            publishable_key=self.settings["CLERK_PUBLISHABLE_KEY"],
            api_url=self.settings["CLERK_API_URL"],
        )
        app = FastAPI(lifespan=clerk.lifespan)
        clerk.install(app)

        @app.get("/who")
        async def who(auth: AuthObject = Depends(Auth(accepts="any"))) -> Any:
            return auth

        return app

    async def call(self, token: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get("/who", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("cli")
    state, key_file = home / "fake.json", home / "fake-key.pem"
    process = subprocess.Popen(
        [*CLI, "serve", "--state", str(state), "--key-file", str(key_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60  # a wait, not an assertion on speed
        while not state.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.exists(), process.stderr.read() if process.poll() is not None else "no state"
        yield Served(state, key_file, json.loads(state.read_text()))
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "export CLERK_SECRET_KEY=" in out
    assert not state.exists()  # removed on exit
    assert key_file.stat().st_mode & 0o077 == 0  # the private key is not world-readable


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["session", "--user-id", "user_9", "--org-id", "org_1", "--role", "admin",
             "--permission", "org:reports:read"],
            {"token_type": "session_token", "user_id": "user_9", "org_id": "org_1",
             "org_role": "org:admin", "org_permissions": ["org:reports:read"]},
        ),
        (
            ["oauth", "--scope", "profile", "--scope", "email", "--user-id", "user_9"],
            {"token_type": "oauth_token", "user_id": "user_9", "scopes": ["profile", "email"]},
        ),
        (
            ["oauth", "--format", "opaque", "--scope", "profile", "--client-id", "client_7"],
            {"token_type": "oauth_token", "client_id": "client_7", "scopes": ["profile"]},
        ),
        (
            ["m2m", "--format", "jwt", "--machine-id", "mch_worker", "--scope", "mch_other"],
            {"token_type": "m2m_token", "machine_id": "mch_worker", "scopes": ["mch_other"]},
        ),
        (
            ["m2m", "--machine-id", "mch_worker", "--claim", "tier=\"gold\""],
            {"token_type": "m2m_token", "machine_id": "mch_worker", "claims": {"tier": "gold"}},
        ),
        (
            ["api-key", "--subject", "org_1", "--scope", "notes:read", "--name", "ci"],
            {"token_type": "api_key", "subject": "org_1", "scopes": ["notes:read"], "name": "ci"},
        ),
    ],
    ids=["session", "oauth-jwt", "oauth-opaque", "m2m-jwt", "m2m-default-opaque", "api-key"],
)  # fmt: skip
async def test_mint_on_the_running_fake_every_type(
    served: Served, args: list[str], expected: dict[str, Any]
) -> None:
    token = mint(*args, "--state", str(served.state))
    response = await served.call(token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in expected} == expected


@pytest.mark.anyio
async def test_mint_with_url_and_secret_key(served: Served) -> None:
    url, secret = served.settings["CLERK_API_URL"], served.settings["CLERK_SECRET_KEY"]
    token = mint("api-key", "--url", url, "--secret-key", secret, "--scope", "x")
    assert token.startswith("ak_")
    assert (await served.call(token)).status_code == 200
    wrong = cli("mint", "api-key", "--url", url, "--secret-key", "sk_test_wrong")
    assert wrong.returncode == 2
    assert "refused" in wrong.stderr
    assert wrong.stdout == ""


@pytest.mark.anyio
async def test_mint_with_the_shared_key_file_needs_no_server(served: Served) -> None:
    token = mint("session", "--key-file", str(served.key_file), "--user-id", "user_k")
    response = await served.call(token)
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == "user_k"
    m2m = mint(
        "m2m", "--key-file", str(served.key_file), "--format", "jwt", "--machine-id", "mch_k"
    )
    assert (await served.call(m2m)).json()["machine_id"] == "mch_k"


@pytest.mark.anyio
async def test_a_token_from_another_key_is_refused(served: Served) -> None:
    """What used to happen to every minted token: a key the served fake does not have."""
    result = cli("mint", "session")
    assert result.returncode == 0
    assert "BEGIN PUBLIC KEY" in result.stderr  # the key that would verify it
    response = await served.call(result.stdout.strip())
    assert response.status_code == 401


def test_opaque_types_need_a_running_fake() -> None:
    for args in (
        ["api-key"],
        ["m2m"],
        ["m2m", "--format", "opaque"],
        ["oauth", "--format", "opaque"],
    ):
        result = cli("mint", *args)
        assert result.returncode == 2
        assert "serve --state FILE" in result.stderr
        assert result.stdout == ""


def token_format(token: str) -> str:
    """``jwt`` for a compact JWS, else the opaque token's prefix (``mt``, ``oat``, ``ak``)."""
    return "jwt" if token.count(".") == 2 else token.split("_", 1)[0]


@pytest.mark.anyio
async def test_the_cli_mints_the_same_formats_as_the_fake_by_default(served: Served) -> None:
    """Issue 27 item 9: `mint m2m` made a JWT while `fake.m2m_token()` makes an opaque mt_."""
    fake = FakeClerk()
    cli_m2m = mint("m2m", "--state", str(served.state))
    assert token_format(cli_m2m) == token_format(fake.m2m_token()) == "mt"
    assert (await served.call(cli_m2m)).json()["token_type"] == "m2m_token"
    cli_oauth = mint("oauth", "--state", str(served.state))
    assert token_format(cli_oauth) == token_format(fake.oauth_token()) == "jwt"
    no_server = cli("mint", "m2m")  # opaque by default, so it needs the running fake
    assert no_server.returncode == 2
    assert "--format jwt" in no_server.stderr


def test_unreachable_fake_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    gone = cli("mint", "session", "--url", "http://127.0.0.1:9", "--secret-key", "sk_test_x")
    assert gone.returncode == 2
    assert "no fake Clerk answers at http://127.0.0.1:9" in gone.stderr
    missing = cli("mint", "session", "--state", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    assert "not a state file" in missing.stderr
    no_key = cli("mint", "session", "--key-file", str(tmp_path / "none.pem"))
    assert no_key.returncode == 2
    assert "no such key file" in no_key.stderr
    assert "Traceback" not in gone.stderr + missing.stderr + no_key.stderr


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"clerk-fastapi {__version__}"


def _subparsers(parser: Any) -> dict[str, Any]:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return dict(action.choices)
    raise AssertionError("no sub-commands")


@pytest.mark.parametrize("command", [[], ["serve"], ["mint"]], ids=["main", "serve", "mint"])
def test_help_describes_every_option_with_examples(command: list[str]) -> None:
    parser = build_parser()
    target = _subparsers(parser)[command[0]] if command else parser
    result = cli(*command, "--help")
    assert result.returncode == 0
    for action in target._actions:
        assert action.help, f"{command} {action.dest} has no help text"
        for option in action.option_strings:
            assert option in result.stdout, option
    assert "example" in result.stdout


# -- issue 24 item 5: safe on a shared machine ---------------------------------------------------


def start_serve(*args: str, state: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*CLI, "serve", "--state", str(state), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60  # a wait, not an assertion on speed
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def test_the_state_file_is_private_and_planted_names_are_not_followed(tmp_path: Path) -> None:
    state = tmp_path / "fake.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (tmp_path / "fake.json.tmp").symlink_to(victim)  # the name 0.x wrote through
    process = start_serve(state=state)
    try:
        assert state.exists(), process.stderr.read() if process.poll() is not None else ""
        assert state.stat().st_mode & 0o777 == 0o600  # it holds the secret and machine keys
        assert "CLERK_MACHINE_SECRET_KEY" in json.loads(state.read_text())
        assert victim.read_text() == "untouched"
        assert not [
            p for p in tmp_path.iterdir() if p.name.endswith(".tmp") and p.name != "fake.json.tmp"
        ]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_served_fake_has_no_oauth_endpoints_unless_asked(served: Served) -> None:
    url = served.settings["CLERK_API_URL"]
    for path in ("/oauth/authorize?client_id=x", "/.well-known/oauth-authorization-server"):
        assert httpx.get(url + path).status_code == 404
    assert httpx.get(url + "/v1/jwks", headers={"Authorization": "Bearer x"}).status_code != 404


def test_serve_frontend_api_answers_only_its_own_host(tmp_path: Path) -> None:
    state = tmp_path / "fake.json"
    process = start_serve("--frontend-api", state=state)
    try:
        assert state.exists(), process.stderr.read() if process.poll() is not None else ""
        url = json.loads(state.read_text())["CLERK_API_URL"]
        metadata = "/.well-known/oauth-authorization-server"
        answer = httpx.get(url + metadata)
        assert answer.status_code == 200
        assert answer.json()["issuer"] == url
        # A DNS-rebinding page reaches the same socket with its own Host.
        rebound = httpx.get(url + metadata, headers={"Host": "attacker.example"})
        assert rebound.status_code == 421
        authorize = httpx.get(
            url + "/oauth/authorize?client_id=x", headers={"Host": "attacker.example:80"}
        )
        assert authorize.status_code == 421
    finally:
        process.terminate()
        process.communicate(timeout=30)
