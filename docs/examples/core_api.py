"""The framework-agnostic core: authenticate_request in a plain Starlette app."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clerk_fastapi import Clerk


def create_app(clerk: Clerk) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        state = await clerk.authenticate_request(request, accepts=["session_token", "api_key"])
        auth = state.to_auth()
        if auth is None:
            code = 503 if state.error == "unavailable" else 401
            return JSONResponse({"reason": state.reason}, status_code=code)
        return JSONResponse({"type": state.token_type, "subject": getattr(auth, "user_id", None)})

    return Starlette(routes=[Route("/", endpoint)])


if __name__ == "__main__":
    from starlette.testclient import TestClient

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    client = TestClient(create_app(fake.clerk()))
    ok = client.get("/", headers={"Authorization": f"Bearer {fake.session_token('user_7')}"})
    assert ok.json() == {"type": "session_token", "subject": "user_7"}
    refused = client.get("/", headers={"Authorization": f"Bearer {fake.m2m_token()}"})
    assert refused.json() == {"reason": "token-type-mismatch"} and fake.hits["m2m_verify"] == 0
    print("core api ok")
