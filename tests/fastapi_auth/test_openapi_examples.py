"""The OpenAPI examples of ``Auth``'s answers are what the server sends: each documented example
(body and header) is compared with a real answer to the request it describes."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from clerk_fastapi import Auth, M2MAuth, SessionAuth
from clerk_fastapi.testing import FakeClerk


def _app(fake: FakeClerk) -> FastAPI:
    app = FastAPI()
    fake.clerk().install(app)

    @app.get("/me")
    async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
        return {"user_id": user.user_id}

    @app.get("/jobs")
    async def jobs(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token", scopes="jobs:write"))],
    ) -> dict[str, str]:
        return {"caller": caller.subject}

    return app


def _real_answer(status: str) -> tuple[Any, dict[str, Any]]:
    """The request each example describes, sent to a real app: (answer, the app's document)."""
    fake = FakeClerk()
    if status == "503":
        token = fake.session_token()
        fake.fail("*", "down")
        path, headers = "/me", {"Authorization": f"Bearer {token}"}
    elif status == "400":
        path, headers = "/me", {"Authorization": "Bearer "}
    elif status == "401":
        path, headers = "/me", {"Authorization": f"Bearer {fake.session_token(expires_in=-60)}"}
    else:
        path, headers = "/jobs", {"Authorization": f"Bearer {fake.m2m_token(scopes=[])}"}
    app = _app(fake)
    with TestClient(app) as client:
        answer = client.get(path, headers=headers)
    operation = app.openapi()["paths"][path]["get"]
    return answer, operation["responses"][status]


@pytest.mark.parametrize("status", ["400", "401", "403", "503"])
def test_each_documented_example_is_a_real_answer(status: str) -> None:
    answer, documented = _real_answer(status)
    assert str(answer.status_code) == status
    assert documented["content"]["application/json"]["example"] == answer.json()
    ((header, spec),) = documented["headers"].items()
    assert str(spec["example"]) == answer.headers[header]
