"""auth({ acceptsToken: [...] }) with a tokenType check in a handler, in FastAPI: Auth(accepts=[...])
and a branch on the principal's type (the union is discriminated on token_type)."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Security

from clerk_fastapi import APIKeyAuth, Auth, OAuthAuth, SessionAuth

app = FastAPI()  # in production: FastAPI(lifespan=clerk.lifespan) with clerk = Clerk()

UserOrOAuth = Annotated[
    SessionAuth | OAuthAuth, Depends(Auth(accepts=["session_token", "oauth_token"]))
]


# const authObject = await auth({ acceptsToken: ['session_token', 'oauth_token'] })
# if (authObject.tokenType === 'oauth_token' && !authObject.scopes?.includes('profile')) ...
@app.get("/profile")
async def profile(auth: UserOrOAuth) -> dict[str, str]:
    # No `isAuthenticated` check: a missing, invalid or other-type token never reaches this line
    # (401 with WWW-Authenticate: Bearer).
    if isinstance(auth, OAuthAuth) and "profile" not in auth.scopes:
        raise HTTPException(403, "OAuth token missing the 'profile' scope")
    return {"user_id": auth.user_id, "token_type": auth.token_type}


# The same rule, declared: sessions pass scope checks, OAuth tokens need the scope (403
# insufficient_scope, and OpenAPI documents the scope).
@app.get("/profile/declared")
async def profile_declared(
    auth: Annotated[
        SessionAuth | OAuthAuth,
        Security(Auth(accepts=["session_token", "oauth_token"]), scopes=["profile"]),
    ],
) -> dict[str, str]:
    return {"user_id": auth.user_id, "token_type": auth.token_type}


# auth({ acceptsToken: ['session_token', 'oauth_token', 'api_key'] }), an API key needing a scope,
# and the subject taken from userId for sessions and from subject for machine tokens.
@app.post("/users")
async def create_user(
    auth: Annotated[
        SessionAuth | OAuthAuth | APIKeyAuth,
        Depends(Auth(accepts=["session_token", "oauth_token", "api_key"])),
    ],
) -> dict[str, str]:
    if auth.token_type == "api_key" and "write:users" not in auth.scopes:
        raise HTTPException(403, "API key missing the 'write:users' scope")
    subject = auth.user_id if auth.token_type == "session_token" else auth.subject
    return {"subject": subject, "token_type": auth.token_type}
