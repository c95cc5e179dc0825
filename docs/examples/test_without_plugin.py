"""Without the plugin: attach a fake's Clerk to the README's app by hand, before it starts."""

from fastapi.testclient import TestClient
from main import app  # clerk = Clerk() (no CLERK_* variables here), FastAPI(lifespan=clerk.lifespan)

from clerk_fastapi.testing import FakeClerk


def test_me_without_the_plugin() -> None:
    fake = FakeClerk()
    app.state.clerk = fake.clerk()  # before the app starts: the app's own Clerk stays idle
    try:
        with TestClient(app) as client:
            token = fake.session_token(user_id="user_1")
            answer = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.json() == {"user_id": "user_1"}
    finally:
        del app.state.clerk
