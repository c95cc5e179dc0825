from typing import Annotated
from fastapi import Depends, FastAPI, Security
from clerk_fastapi import Auth, Clerk, M2MAuth, OAuthAuth, SessionAuth

clerk = Clerk()                                   # settings from CLERK_* variables
app = FastAPI(lifespan=clerk.lifespan)            # pooled HTTP client, JWKS warm-up

@app.get("/me")
async def me(user: Annotated[SessionAuth, Depends(Auth())]):          # session tokens
    return {"user_id": user.user_id}

@app.get("/profile")
async def profile(auth: Annotated[SessionAuth | OAuthAuth,
        Security(Auth(accepts=["session_token", "oauth_token"]), scopes=["profile"])]):
    return {"user_id": auth.user_id, "via": auth.token_type}

@app.post("/jobs")
async def jobs(caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))]):
    return {"machine": caller.machine_id}
