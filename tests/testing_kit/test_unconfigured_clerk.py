"""``Clerk()`` without a key: importable, loud at start-up and at first use, idle when a test
swapped it (``use_fake_clerk``, ``get_clerk`` override, ``override_auth``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from clerk_fastapi import Auth, Clerk, ConfigurationError, SessionAuth, get_clerk
from clerk_fastapi.testing import FakeClerk, override_auth


class CountingTransport(httpx.AsyncBaseTransport):
    """Records every request the real instance would send (and answers none of them)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        raise httpx.ConnectError("no network in this test")


@pytest.fixture(autouse=True)
def no_clerk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_API_URL"):
        monkeypatch.delenv(name, raising=False)


def readme_app(clerk: Clerk) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    return app


def test_without_a_key_the_instance_builds_and_refuses_to_start() -> None:
    clerk = Clerk()
    app = readme_app(clerk)
    with pytest.raises(ConfigurationError, match="Set CLERK_SECRET_KEY"), TestClient(app):
        pass


@pytest.mark.anyio
async def test_without_a_key_every_verification_raises() -> None:
    clerk = Clerk()
    with pytest.raises(ConfigurationError, match="Set CLERK_SECRET_KEY"):
        await clerk.authenticate_token("whatever")
    with pytest.raises(ConfigurationError, match="Set CLERK_SECRET_KEY"):
        clerk.check()


def test_a_request_without_lifespan_is_not_answered_as_if_signed_out() -> None:
    app = readme_app(Clerk())
    client = TestClient(app, raise_server_exceptions=True)  # no `with`: no lifespan
    with pytest.raises(ConfigurationError):
        client.get("/me", headers={"Authorization": "Bearer x.y.z"})


def test_jwt_key_alone_is_enough() -> None:
    fake = FakeClerk()
    Clerk(jwt_key=fake.signing_key.public_pem()).check()


def test_use_fake_clerk_keeps_the_real_instance_idle(
    use_fake_clerk: Callable[..., Clerk], fake_clerk: FakeClerk
) -> None:
    transport = CountingTransport()
    real = Clerk(secret_key="sk_test_" + "r" * 40, transport=transport)
    app = readme_app(real)
    swapped = use_fake_clerk(app)
    token = fake_clerk.session_token(user_id="user_1")
    with TestClient(app) as client:
        response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert app.state.clerk is swapped
    assert response.json() == {"user_id": "user_1"}
    assert transport.urls == []


def test_without_the_swap_the_same_app_reaches_for_clerk() -> None:
    """The control for the test above: the real instance's start-up does fetch the JWKS."""
    transport = CountingTransport()
    real = Clerk(secret_key="sk_test_" + "r" * 40, transport=transport)
    with TestClient(readme_app(real)):
        pass
    assert transport.urls  # the warm-up retries: one or more JWKS fetches
    assert set(transport.urls) == {"https://api.clerk.com/v1/jwks"}


def test_unconfigured_app_with_use_fake_clerk_starts(
    use_fake_clerk: Callable[..., Clerk], fake_clerk: FakeClerk
) -> None:
    app = readme_app(Clerk())
    use_fake_clerk(app)
    with TestClient(app) as client:
        token = fake_clerk.session_token(user_id="user_2")
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_manual_get_clerk_override_keeps_it_idle_too() -> None:
    fake = FakeClerk()
    stand_in = fake.clerk()
    app = readme_app(Clerk())
    app.dependency_overrides[get_clerk] = lambda: stand_in
    with TestClient(app) as client:
        token = fake.session_token(user_id="user_3")
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_override_auth_keeps_it_idle() -> None:
    app = readme_app(Clerk())
    with override_auth(app, SessionAuth(user_id="user_4")), TestClient(app) as client:
        assert client.get("/me").json() == {"user_id": "user_4"}
    with pytest.raises(ConfigurationError), TestClient(app):
        pass  # the override is gone: the unconfigured instance refuses to start again


def test_use_fake_clerk_is_undone_after_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_undone.py").write_text(
        textwrap.dedent(
            """
            from fastapi import FastAPI
            from clerk_fastapi import get_clerk

            app = FastAPI()

            def test_one(use_fake_clerk):
                use_fake_clerk(app)
                assert get_clerk in app.dependency_overrides

            def test_two():
                assert get_clerk not in app.dependency_overrides
                assert not hasattr(app.state, "clerk")
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert "2 passed" in run.stdout


def test_settings_given_in_code_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_" + "e" * 40)
    monkeypatch.setenv("CLERK_API_URL", "http://127.0.0.1:9")
    clerk = Clerk(secret_key="sk_test_" + "c" * 40)
    assert clerk.settings.secret_key is not None
    assert clerk.settings.secret_key.get_secret_value() == "sk_test_" + "c" * 40
    assert clerk.settings.api_url == "http://127.0.0.1:9"  # not given in code: from the env
