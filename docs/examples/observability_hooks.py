"""Point the authentication hooks at your metrics (here: a Counter)."""

from collections import Counter
from typing import Annotated

from fastapi import Depends, FastAPI

from clerk_fastapi import AuthEvent, Auth, Clerk, SessionAuth

decisions: Counter[tuple[str, str | None, str | None]] = Counter()


def record(event: AuthEvent) -> None:
    # event.fingerprint identifies a token without revealing it; event.latency_ms is the cost.
    decisions[(event.outcome, event.token_type, event.reason)] += 1


def create_app(clerk: Clerk) -> FastAPI:
    clerk.on_authenticated = record
    clerk.on_rejected = record
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    return app


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    with TestClient(create_app(fake.clerk())) as client:
        client.get("/me", headers={"Authorization": f"Bearer {fake.session_token()}"})
        client.get(
            "/me", headers={"Authorization": f"Bearer {fake.broken_session_token('expired')}"}
        )
    assert decisions[("authenticated", "session_token", None)] == 1
    expired = "session-token-expired-refresh-non-eligible-no-refresh-cookie"  # Clerk's reason
    assert decisions[("rejected", "session_token", expired)] == 1
    print("observability ok")
