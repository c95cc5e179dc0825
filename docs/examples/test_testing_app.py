"""test_app.py: how a user tests it. No conftest: the fixtures come from the installed plugin."""

import httpx
import pytest
from fastapi.testclient import TestClient
from testing_app import app

from clerk_fastapi import SessionAuth
from clerk_fastapi.testing import override_auth


def test_signed_in_user(fake_clerk, use_fake_clerk):
    use_fake_clerk(app)  # app's get_clerk now returns a Clerk wired to the fake
    token = fake_clerk.session_token(user_id="user_123")
    response = TestClient(app).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"user_id": "user_123"}


def test_expired_token(fake_clerk, use_fake_clerk, frozen_clock):
    use_fake_clerk(app)
    token = fake_clerk.session_token()
    frozen_clock.advance(120)  # session tokens live 60 s
    response = TestClient(app).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == (
        "session-token-expired-refresh-non-eligible-no-refresh-cookie"
    )


def test_machine_token_and_revocation(fake_clerk, use_fake_clerk):
    use_fake_clerk(app)
    token = fake_clerk.m2m_token(machine_id="mch_worker")
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/jobs", headers=headers).json() == {"machine": "mch_worker"}
    fake_clerk.revoke(token)
    assert client.post("/jobs", headers=headers).status_code == 401


def test_clerk_outage_is_a_503(fake_clerk, use_fake_clerk):
    use_fake_clerk(app)
    fake_clerk.fail("m2m_verify", "status", status=429, retry_after=7)
    token = fake_clerk.m2m_token()
    response = TestClient(app).post("/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


def test_without_any_token():
    with override_auth(app, SessionAuth(user_id="user_42")):
        assert TestClient(app).get("/me").json() == {"user_id": "user_42"}


@pytest.mark.anyio
async def test_with_an_async_client(fake_clerk, use_fake_clerk):
    use_fake_clerk(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        token = fake_clerk.session_token(user_id="user_async")
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"user_id": "user_async"}
