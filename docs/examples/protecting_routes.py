"""accepts, scopes, permissions, roles, optional auth, aliases and WebSockets."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Security, WebSocket

from clerk_fastapi import (
    AnyAuthDep,
    Auth,
    AuthObject,
    M2MDep,
    OptionalSessionDep,
    SessionAuth,
    SessionDep,
)

app = FastAPI()

# Every route of this router needs a signed-in user; routes add their own checks.
admin = APIRouter(prefix="/admin", dependencies=[Depends(Auth(roles=["org:admin"]))])


@admin.get("/audit")
async def audit(
    user: Annotated[SessionAuth, Depends(Auth(permissions=["org:audit:read"]))],
) -> dict[str, Any]:
    return {"org": user.org_id}


app.include_router(admin)


@app.get("/whoami")
async def whoami(auth: AnyAuthDep) -> AuthObject:
    return auth  # the response schema is the discriminated union


@app.get("/reports")
async def reports(
    auth: Annotated[
        Any, Security(Auth(accepts=["session_token", "api_key"]), scopes=["reports:read"])
    ],
) -> dict[str, str]:
    # Sessions pass scope checks (a user's own session is not scoped); API keys need the scope.
    return {"via": auth.token_type}


@app.post("/sync")
async def sync(caller: M2MDep) -> dict[str, str]:
    return {"machine": caller.machine_id}


@app.get("/beta")
async def beta(
    user: Annotated[SessionAuth, Depends(Auth(features=["o:beta"], reverification="strict"))],
) -> dict[str, bool]:
    return {"beta": True}


@app.get("/feed")
async def feed(user: OptionalSessionDep) -> dict[str, str]:
    return {"feed": "personal" if user else "public"}


@app.websocket("/live")
async def live(websocket: WebSocket, user: SessionDep) -> None:
    await websocket.accept()
    await websocket.send_json({"user": user.user_id})
    await websocket.close()


if __name__ == "__main__":
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    app.state.clerk = fake.clerk()
    client = TestClient(app)

    def status(path: str, token: str | None = None, method: str = "GET") -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.request(method, path, headers=headers).status_code

    boss = fake.session_token(org="org_1", role="admin", permissions=["org:audit:read"])
    member = fake.session_token(org="org_1", role="member", permissions=["org:audit:read"])
    assert status("/admin/audit", boss) == 200
    assert status("/admin/audit", member) == 403
    assert (
        client.get("/whoami", headers={"Authorization": f"Bearer {fake.m2m_token()}"}).json()[
            "token_type"
        ]
        == "m2m_token"
    )
    assert status("/reports", fake.session_token()) == 200
    assert status("/reports", fake.api_key(scopes=["reports:read"])) == 200
    assert status("/reports", fake.api_key()) == 403
    assert status("/sync", fake.m2m_token("jwt"), "POST") == 200
    assert status("/beta", fake.session_token(features=["o:beta"], fva=(1, 1))) == 200
    assert status("/beta", fake.session_token(features=["o:beta"], fva=(1, 30))) == 403
    assert client.get("/feed").json() == {"feed": "public"}
    with client.websocket_connect("/live", headers={"Authorization": f"Bearer {boss}"}) as ws:
        assert "user" in ws.receive_json()
    try:
        with client.websocket_connect("/live") as ws:
            ws.receive_json()
    except WebSocketDisconnect as closed:
        assert closed.code == 1008
    print("protecting routes ok")
