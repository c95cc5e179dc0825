"""test_main.py: the README's app (main.py) tested as it is. No conftest, no CLERK_* variables
and no network: the fixtures come from the plugin that installing clerk-fastapi registers."""

import httpx
import pytest
from fastapi.testclient import TestClient
from main import app

from clerk_fastapi import SessionAuth
from clerk_fastapi.testing import override_auth


@pytest.fixture
def client(use_fake_clerk):
    use_fake_clerk(app)  # before the app starts: main.clerk stays idle, the fake answers
    with TestClient(app) as client:  # runs the lifespan, which reaches no server
        yield client


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_signed_in_user(client, fake_clerk):
    token = fake_clerk.session_token(user_id="user_123")
    assert client.get("/me", headers=bearer(token)).json() == {"user_id": "user_123"}


def test_expired_token(client, fake_clerk, frozen_clock):
    token = fake_clerk.session_token()
    frozen_clock.advance(120)  # session tokens live 60 s
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == (
        "session-token-expired-refresh-non-eligible-no-refresh-cookie"  # Clerk's reason
    )


def test_oauth_token_needs_the_profile_scope(client, fake_clerk):
    granted = fake_clerk.oauth_token(scopes=["profile"], user_id="user_123")
    response = client.get("/profile", headers=bearer(granted))
    assert response.json() == {"user_id": "user_123", "via": "oauth_token"}
    other = fake_clerk.oauth_token(scopes=["email"], user_id="user_123")
    assert client.get("/profile", headers=bearer(other)).status_code == 403


def test_machine_token_and_revocation(client, fake_clerk):
    token = fake_clerk.m2m_token(machine_id="mch_worker")
    assert client.post("/jobs", headers=bearer(token)).json() == {"machine": "mch_worker"}
    fake_clerk.revoke(token)
    assert client.post("/jobs", headers=bearer(token)).status_code == 401


def test_clerk_outage_is_a_503(client, fake_clerk):
    fake_clerk.fail("m2m_verify", "status", status=429, retry_after=7)
    response = client.post("/jobs", headers=bearer(fake_clerk.m2m_token()))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


def test_without_any_token():
    with override_auth(app, SessionAuth(user_id="user_42")), TestClient(app) as client:
        assert client.get("/me").json() == {"user_id": "user_42"}


@pytest.mark.anyio
async def test_with_an_async_client(fake_clerk, use_fake_clerk):
    use_fake_clerk(app)
    transport = httpx.ASGITransport(app=app)  # runs no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        token = fake_clerk.session_token(user_id="user_async")
        response = await client.get("/me", headers=bearer(token))
    assert response.json() == {"user_id": "user_async"}
