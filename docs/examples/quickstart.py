"""Quick start: one route per token type."""

from typing import Annotated

from fastapi import Depends, FastAPI, Security

from clerk_fastapi import APIKeyAuth, Auth, Clerk, M2MAuth, OAuthAuth, SessionAuth


def create_app(clerk: Clerk) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)  # in production: clerk = Clerk() (CLERK_* env vars)

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    @app.get("/profile")
    async def profile(
        auth: Annotated[
            SessionAuth | OAuthAuth,
            Security(Auth(accepts=["session_token", "oauth_token"]), scopes=["profile"]),
        ],
    ) -> dict[str, str]:
        return {"user_id": auth.user_id, "via": auth.token_type}

    @app.post("/jobs")
    async def jobs(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
    ) -> dict[str, str]:
        return {"machine": caller.machine_id}

    @app.get("/export")
    async def export(
        key: Annotated[APIKeyAuth, Security(Auth(accepts="api_key"), scopes=["export"])],
    ) -> dict[str, str]:
        return {"subject": key.subject}

    return app


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    with TestClient(create_app(fake.clerk())) as client:

        def get(path: str, token: str, method: str = "GET") -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return client.request(method, path, headers=headers).status_code

        assert get("/me", fake.session_token("user_1")) == 200
        assert get("/profile", fake.oauth_token(scopes=["profile"])) == 200
        assert get("/profile", fake.oauth_token(scopes=["email"])) == 403
        assert get("/jobs", fake.m2m_token(), "POST") == 200
        assert get("/export", fake.api_key(scopes=["export"])) == 200
        assert get("/me", fake.api_key()) == 401
        print("quickstart ok")
