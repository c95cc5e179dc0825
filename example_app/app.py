"""Team Notes: a realistic FastAPI service that accepts every kind of Clerk credential.

- a browser (your frontend) calls with the user's **session token**;
- a third-party app the user authorised calls with an **OAuth access token** (scope `profile`);
- your nightly worker calls with an **M2M token**;
- a user's script calls with an **API key** (scopes `notes:read` / `notes:write`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Security, WebSocket

from clerk_fastapi import (
    APIKeyAuth,
    Auth,
    AuthObject,
    Clerk,
    M2MAuth,
    OAuthAuth,
    OptionalSessionDep,
    SessionAuth,
    SessionDep,
)


def create_app(clerk: Clerk | None = None) -> FastAPI:
    """Build the app; ``clerk`` defaults to one configured from CLERK_* environment variables."""
    clerk = clerk or Clerk()
    app = FastAPI(title="Team Notes", lifespan=clerk.lifespan)
    notes: list[dict[str, Any]] = [{"id": 1, "text": "Welcome to Team Notes", "owner": "system"}]

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Public: no credentials needed."""
        return {"status": "ok"}

    @app.get("/me")
    async def me(auth: Annotated[AuthObject, Depends(Auth(accepts="any"))]) -> AuthObject:
        """Whoever is calling, typed: the response schema is the discriminated union."""
        return auth

    @app.get("/notes")
    async def list_notes(user: SessionDep) -> dict[str, Any]:
        """Signed-in users only (session token)."""
        return {"user_id": user.user_id, "notes": notes}

    @app.get("/profile")
    async def profile(
        auth: Annotated[
            SessionAuth | OAuthAuth,
            Security(Auth(accepts=["session_token", "oauth_token"]), scopes=["profile"]),
        ],
    ) -> dict[str, Any]:
        """The user themself, or an app they authorised with the `profile` scope."""
        return {"user_id": auth.user_id, "via": auth.token_type}

    @app.post("/jobs/reindex")
    async def reindex(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
    ) -> dict[str, Any]:
        """Machine-to-machine only: another of our services."""
        return {"queued": True, "by_machine": caller.machine_id}

    @app.get("/api/notes")
    async def api_notes(
        key: Annotated[APIKeyAuth, Security(Auth(accepts="api_key"), scopes=["notes:read"])],
    ) -> dict[str, Any]:
        """A user's script with an API key that has the `notes:read` scope."""
        return {"subject": key.subject, "notes": notes}

    @app.post("/api/notes")
    async def api_add_note(
        key: Annotated[APIKeyAuth, Security(Auth(accepts="api_key"), scopes=["notes:write"])],
    ) -> dict[str, Any]:
        note = {"id": len(notes) + 1, "text": "added by API key", "owner": key.subject}
        notes.append(note)
        return note

    @app.get("/reports")
    async def reports(
        user: Annotated[SessionAuth, Depends(Auth(permissions=["org:reports:read"]))],
    ) -> dict[str, Any]:
        """Needs the org permission `org:reports:read` in the active organization."""
        return {"org_id": user.org_id, "reports": ["weekly.pdf"]}

    @app.delete("/notes/{note_id}")
    async def delete_note(
        note_id: int, user: Annotated[SessionAuth, Depends(Auth(roles=["org:admin"]))]
    ) -> dict[str, Any]:
        """Org admins only."""
        return {"deleted": note_id, "by": user.user_id}

    @app.get("/activity")
    async def activity(auth: Annotated[AuthObject, Depends(Auth(accepts="any"))]) -> dict[str, Any]:
        """Any credential; the answer depends on who is calling."""
        if isinstance(auth, SessionAuth):
            return {"who": "user", "id": auth.user_id}
        if isinstance(auth, M2MAuth):
            return {"who": "machine", "id": auth.machine_id}
        return {"who": auth.token_type, "id": auth.subject}

    @app.get("/feed")
    async def feed(user: OptionalSessionDep) -> dict[str, Any]:
        """Optional auth: anonymous visitors get the public feed."""
        if user is None:
            return {"feed": "public"}
        return {"feed": "personal", "user_id": user.user_id}

    @app.websocket("/ws")
    async def live(websocket: WebSocket, user: SessionDep) -> None:
        """Live updates for signed-in users; a bad token closes the socket with 1008."""
        await websocket.accept()
        await websocket.send_json({"hello": user.user_id})
        await websocket.close()

    # Swagger UI and ReDoc from the installed fastapi-offline package (clerk-fastapi[docs-ui]):
    # /docs works with no internet access.
    clerk.install(app, offline_docs=True)
    return app
