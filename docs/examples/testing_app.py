"""app.py: the service under test (a user's code; nothing test-specific in it)."""

from typing import Annotated

from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, M2MAuth, SessionAuth

app = FastAPI()


@app.get("/me")
async def me(user: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
    return {"user_id": user.user_id}


@app.post("/jobs")
async def jobs(
    caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
) -> dict[str, str]:
    return {"machine": caller.machine_id}
