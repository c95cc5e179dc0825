"""First contact (issue 27): every configuration mistake fails once, as a ``ConfigurationError``
whose one-line message names the cause and the fix; a caller-only service starts; a Clerk
attached by hand (``app.state.clerk = fake.clerk()``) is the one the app uses."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from clerk_fastapi import Auth, Clerk, ConfigurationError, M2MAuth, SessionAuth
from clerk_fastapi.testing import FakeClerk

KEY = "sk_test_0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(autouse=True)
def no_clerk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CLERK_"):
            monkeypatch.delenv(name)


def session_app(clerk: Clerk) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    return app


def _one_line_without_pydantic(error: BaseException) -> None:
    assert isinstance(error, ConfigurationError)
    assert "\n" not in str(error)
    report = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert "pydantic" not in report.lower()
    assert "ValidationError" not in report


# -- 3: the .env that was ignored, the missing use_fake_clerk(app) -------------------------------


def test_a_dotenv_in_the_working_directory_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f'CLERK_SECRET_KEY="{KEY}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # as in a server, not a test
    app = session_app(Clerk())
    with pytest.raises(ConfigurationError) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert "Set CLERK_SECRET_KEY" in message
    assert str(tmp_path / ".env") in message
    assert 'Clerk(env_file=".env")' in message
    assert KEY not in message and KEY[8:] not in message  # names the file, never the value
    assert "use_fake_clerk" not in message  # not under pytest


def test_a_dotenv_without_keys_is_not_mentioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://x\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        Clerk().check()
    assert ".env" not in str(caught.value)


def test_forgetting_use_fake_clerk_under_pytest_says_so(fake_clerk: FakeClerk) -> None:
    # The user's module-level `clerk = Clerk()` and a test that uses the fake_clerk fixture
    # (mints a token) but never attached it with use_fake_clerk(app).
    app = session_app(Clerk())
    token = fake_clerk.session_token()
    with pytest.raises(ConfigurationError) as caught, TestClient(app) as client:
        client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert "use_fake_clerk(app)" in str(caught.value)
    _one_line_without_pydantic(caught.value)


# -- 4: a caller-only service starts with the machine secret key alone -----------------------------


def test_a_caller_only_service_starts_with_only_the_machine_secret_key() -> None:
    fake = FakeClerk()
    a, b = fake.machines_that_talk()
    receiver = FastAPI(lifespan=fake.clerk(machine_secret_key=b.secret_key).lifespan)

    @receiver.get("/work")
    async def work(caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))]) -> Any:
        return {"caller": caller.subject}

    caller_clerk = Clerk(
        machine_secret_key=a.secret_key, api_url=fake.api_url, transport=fake.transport()
    )
    assert caller_clerk.settings.secret_key is None
    app = FastAPI(lifespan=caller_clerk.lifespan)

    @app.get("/call")
    async def call() -> Any:
        async with httpx.AsyncClient(
            auth=caller_clerk.m2m.auth(),
            transport=httpx.ASGITransport(app=receiver),
            base_url="http://b",
        ) as client:
            return (await client.get("/work")).json()

    with TestClient(app) as client:
        assert client.get("/call").json() == {"caller": a.id}


def test_an_app_with_auth_routes_still_needs_a_key_at_start_up() -> None:
    clerk = Clerk(machine_secret_key="ak_machine_secret_for_the_test_only")
    with (
        pytest.raises(ConfigurationError, match="Set CLERK_SECRET_KEY"),
        TestClient(session_app(clerk)),
    ):
        pass


# -- 5: malformed keys are one ConfigurationError line, not a pydantic report ---------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CLERK_SECRET_KEY", "sk_live_...", "CLERK_SECRET_KEY looks like a placeholder"),
        ("CLERK_SECRET_KEY", "pk_test_abc", "CLERK_SECRET_KEY must start with sk_test_"),
        ("CLERK_PUBLISHABLE_KEY", "pk_test_!!", "CLERK_PUBLISHABLE_KEY"),
        ("CLERK_JWT_KEY", "-----BEGIN PUBLIC KEY-----\nxyz", "CLERK_JWT_KEY"),
        ("CLERK_HTTP_TIMEOUT", "soon", "CLERK_HTTP_TIMEOUT"),
    ],
)
def test_a_malformed_setting_is_one_configuration_error_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        Clerk()
    assert says in str(caught.value)
    _one_line_without_pydantic(caught.value)


def test_a_malformed_key_at_import_prints_no_pydantic_report(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        textwrap.dedent(
            """
            from fastapi import FastAPI
            from clerk_fastapi import Clerk

            clerk = Clerk()
            app = FastAPI(lifespan=clerk.lifespan)
            """
        )
    )
    env = {"PATH": "/usr/bin:/bin", "CLERK_SECRET_KEY": "sk_test_<your-key>"}
    result = subprocess.run(
        [sys.executable, "-c", "import main"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("clerk_fastapi.errors.ConfigurationError: Invalid Clerk settings:")
    assert "placeholder" in last
    assert "errors.pydantic.dev" not in result.stderr
    assert "validation error" not in result.stderr


# -- 8: CLERK_API_URL with /v1 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://api.clerk.com/v1", "https://api.clerk.com/v1/", "http://127.0.0.1:9/v1"]
)
def test_an_api_url_ending_in_v1_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("CLERK_API_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        Clerk(secret_key=KEY)
    assert "remove the trailing /v1" in str(caught.value)
    assert "https://api.clerk.com" in str(caught.value)
    _one_line_without_pydantic(caught.value)


def test_an_api_url_with_a_proxy_path_is_kept() -> None:
    clerk = Clerk(secret_key=KEY, api_url="https://proxy.example.com/clerk/")
    assert clerk.settings.api_url == "https://proxy.example.com/clerk"


# -- 10: typos and unsupported cache URLs ------------------------------------------------------


def test_an_unknown_keyword_is_refused_with_the_closest_setting() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Clerk(secret_key=KEY, authorised_parties=["https://app.example.com"])
    assert "unknown setting 'authorised_parties'" in str(caught.value)
    assert "did you mean 'authorized_parties'" in str(caught.value)
    with pytest.raises(ConfigurationError, match="unknown setting 'cache_clustr'"):
        Clerk(secret_key=KEY, cache_clustr=True)
    with pytest.raises(ConfigurationError, match="unknown setting 'secret'"):
        FakeClerk().clerk(secret="x")


@pytest.mark.parametrize(
    "url", ["redis+cluster://cache:6379", "memcached://cache:11211", "cache.internal:6379"]
)
def test_an_unsupported_cache_url_fails_when_the_instance_is_built(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("CLERK_CACHE_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        Clerk(secret_key=KEY)
    assert "CLERK_CACHE_URL" in str(caught.value)
    assert "redis://" in str(caught.value)
    assert url not in str(caught.value)  # a Redis URL may carry a password
    _one_line_without_pydantic(caught.value)


# -- 6: wiring without the plugin ------------------------------------------------------------------


def test_a_clerk_attached_by_hand_is_used_and_the_apps_own_stays_idle() -> None:
    fake = FakeClerk()
    app = session_app(Clerk())  # the app's own Clerk has no key
    app.state.clerk = fake.clerk()
    with TestClient(app) as client:
        answer = client.get("/me", headers={"Authorization": f"Bearer {fake.session_token()}"})
    assert answer.status_code == 200, answer.text


# -- 7: logs: 403s at INFO with the reason; mismatches name the presented type and the route's ----


def _logs_app(fake: FakeClerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = fake.clerk()

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    @app.get("/jobs")
    async def jobs(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token", scopes="jobs:write"))],
    ) -> dict[str, str]:
        return {"caller": caller.subject}

    @app.get("/only-from-billing")
    async def only(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token", machines="mch_billing"))],
    ) -> dict[str, str]:
        return {"caller": caller.subject}

    return app


def _records(caplog: pytest.LogCaptureFixture, event: str) -> list[Any]:
    return [r for r in caplog.records if getattr(r, "clerk_event", None) == event]


@pytest.mark.parametrize(
    ("path", "missing"), [("/jobs", "jobs:write"), ("/only-from-billing", "machines")]
)
def test_a_403_is_logged_at_info_with_the_reason(
    caplog: pytest.LogCaptureFixture, path: str, missing: str
) -> None:
    fake = FakeClerk()
    token = fake.m2m_token(scopes=[])
    caplog.set_level(logging.INFO, logger="clerk_fastapi")
    with TestClient(_logs_app(fake)) as client:
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    (record,) = _records(caplog, "forbidden")
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "reason=insufficient-scope" in message and f"missing={missing}" in message
    assert "type=m2m_token" in message
    assert token not in message and token not in repr(record.__dict__)


def test_a_type_mismatch_log_names_the_presented_type_and_the_routes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeClerk()
    caplog.set_level(logging.INFO, logger="clerk_fastapi")
    with TestClient(_logs_app(fake)) as client:
        assert (
            client.get(
                "/jobs", headers={"Authorization": f"Bearer {fake.session_token()}"}
            ).status_code
            == 401
        )
    (record,) = _records(caplog, "rejected")
    message = record.getMessage()
    assert "type=session_token" in message, message
    assert "accepts=m2m_token" in message, message
    assert "reason=token-type-mismatch" in message
    assert record.clerk_presented_type == "session_token"
