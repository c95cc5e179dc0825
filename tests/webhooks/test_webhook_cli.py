"""``mint webhook TYPE`` prints a curl that, run as printed, delivers a webhook an app accepts;
``fake.deliver`` reaches a real socket too."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest
from fastapi import Depends, FastAPI
from servers import serve_app

from clerk_fastapi import ClerkWebhook
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.webhooks import UserEvent, WebhookEvent

CLI = [sys.executable, "-m", "clerk_fastapi.testing", "mint", "webhook"]


def app_for(secret: str, received: list[WebhookEvent]) -> FastAPI:
    app = FastAPI()
    webhook = ClerkWebhook(secret)

    @app.post("/webhooks/clerk")
    async def receive(event: WebhookEvent = Depends(webhook)) -> dict[str, str]:
        received.append(event)
        return {"received": event.type}

    return app


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env=env)


def test_the_printed_curl_delivers_a_webhook_the_app_accepts() -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    secret = FakeClerk().webhook_signing_secret
    received: list[WebhookEvent] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    with serve_app(app_for(secret, received)) as url:
        result = run_cli(
            "user.created",
            "--url",
            f"{url}/webhooks/clerk",
            "--data",
            '{"id": "user_cli", "first_name": "Grace"}',
            env={**env, "CLERK_WEBHOOK_SIGNING_SECRET": secret},
        )
        assert result.returncode == 0, result.stderr
        command = shlex.split(result.stdout)
        assert command[0] == "curl"
        assert secret not in result.stdout + result.stderr
        answer = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert answer.stdout == '{"received":"user.created"}', answer.stdout + answer.stderr
        # --secret wins over the environment
        other = run_cli(
            "session.created",
            "--url",
            f"{url}/webhooks/clerk",
            "--secret",
            secret,
            env={**env, "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_" + "B" * 32},
        )
        answer = subprocess.run(
            shlex.split(other.stdout), capture_output=True, text=True, timeout=60
        )
        assert answer.stdout == '{"received":"session.created"}'
    (user, _session) = received
    assert isinstance(user, UserEvent)
    assert user.data.id == "user_cli" and user.data.first_name == "Grace"


def test_without_a_secret_it_makes_one_and_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    result = run_cli("user.deleted", env=env)
    assert result.returncode == 0, result.stderr
    assert "export CLERK_WEBHOOK_SIGNING_SECRET=whsec_" in result.stderr
    assert "http://127.0.0.1:8000/webhooks/clerk" in result.stdout
    bad = run_cli("user.created", "--secret", "whsec_not base64", env=env)
    assert bad.returncode == 2 and "base64" in bad.stderr and "not base64" not in bad.stderr


def test_fake_deliver_to_a_url() -> None:
    fake = FakeClerk()
    received: list[WebhookEvent] = []
    with serve_app(app_for(fake.webhook_signing_secret, received)) as url:
        response = fake.deliver(url, "user.created", {"id": "user_http"})
    assert response.status_code == 200
    assert received[0].data.id == "user_http"
