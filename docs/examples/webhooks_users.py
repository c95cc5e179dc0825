"""Keep a users table in SQLite in sync with Clerk: user.created, user.updated, user.deleted.

Run it: USERS_DB=users.db CLERK_WEBHOOK_SIGNING_SECRET=whsec_... uvicorn webhooks_users:app
"""

import os
import sqlite3
from typing import Annotated

from fastapi import Depends, FastAPI

from clerk_fastapi import ClerkWebhook
from clerk_fastapi.webhooks import UserDeletedEvent, UserEvent, WebhookDeduplicator, WebhookEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    updated_at INTEGER NOT NULL
)
"""

UPSERT = """
INSERT INTO users (id, email, first_name, last_name, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    email = excluded.email, first_name = excluded.first_name,
    last_name = excluded.last_name, updated_at = excluded.updated_at
WHERE excluded.updated_at >= users.updated_at
"""


def create_app(database: str) -> FastAPI:
    db = sqlite3.connect(database, check_same_thread=False)
    db.execute(SCHEMA)
    # One id per message: a retry (or a second delivery) of a message is handled once.
    # With several workers, pass cache_url=os.environ["CLERK_CACHE_URL"] (redis://...).
    dedupe = WebhookDeduplicator()
    app = FastAPI()

    @app.post("/webhooks/clerk")
    async def clerk_webhook(
        event: Annotated[WebhookEvent, Depends(ClerkWebhook())],
    ) -> dict[str, str]:
        async with dedupe.once(event) as first:
            if not first:
                return {"status": "duplicate"}
            with db:  # one transaction; an exception rolls back and releases the claim
                if isinstance(event, UserEvent):
                    user = event.data
                    db.execute(
                        UPSERT,
                        (
                            user.id,
                            user.primary_email_address,
                            user.first_name,
                            user.last_name,
                            user.updated_at or 0,
                        ),
                    )
                elif isinstance(event, UserDeletedEvent):
                    db.execute("DELETE FROM users WHERE id = ?", (event.data.id,))
        return {"status": "ok"}  # any other event: acknowledged, nothing to do

    return app


app = create_app(os.environ.get("USERS_DB", ":memory:"))
