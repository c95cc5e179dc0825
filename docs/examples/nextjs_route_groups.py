"""clerkMiddleware + createRouteMatcher + auth.protect({ token }) per path group, in FastAPI:
one APIRouter per path group, whose dependencies protect every route in it."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from clerk_fastapi import AnyAuthDep, Auth, OAuthAuth, SessionAuth

app = FastAPI()  # in production: FastAPI(lifespan=clerk.lifespan) with clerk = Clerk()

# isOAuthAccessible = createRouteMatcher(['/oauth(.*)']) -> auth.protect({ token: 'oauth_token' })
oauth = APIRouter(prefix="/oauth", dependencies=[Depends(Auth(accepts="oauth_token"))])
# isApiKeyAccessible = createRouteMatcher(['/api(.*)']) -> auth.protect({ token: 'api_key' })
api = APIRouter(prefix="/api", dependencies=[Depends(Auth(accepts="api_key"))])
# isMachineTokenAccessible = createRouteMatcher(['/m2m(.*)']) -> auth.protect({ token: 'm2m_token' })
m2m = APIRouter(prefix="/m2m", dependencies=[Depends(Auth(accepts="m2m_token"))])
# isUserAccessible = createRouteMatcher(['/user(.*)']) -> auth.protect({ token: 'session_token' })
user = APIRouter(prefix="/user", dependencies=[Depends(Auth(accepts="session_token"))])
# isAccessibleToAnyValidToken = createRouteMatcher(['/any(.*)']) -> auth.protect({ token: 'any' })
any_token = APIRouter(prefix="/any", dependencies=[Depends(Auth(accepts="any"))])


@oauth.get("/data")
async def oauth_data() -> dict[str, str]:
    return {"group": "oauth"}


@api.get("/data")
async def api_data() -> dict[str, str]:
    return {"group": "api"}


@m2m.get("/data")
async def m2m_data() -> dict[str, str]:
    return {"group": "m2m"}


@user.get("/data")
async def user_data() -> dict[str, str]:
    return {"group": "user"}


@any_token.get("/data")
async def any_data() -> dict[str, str]:
    return {"group": "any"}


# A route that also wants the principal declares it: the token is still verified only once.
@user.get("/me")
async def me(session: Annotated[SessionAuth, Depends(Auth())]) -> dict[str, str]:
    return {"user_id": session.user_id}


@oauth.get("/me")
async def oauth_me(token: Annotated[OAuthAuth, Depends(Auth(accepts="oauth_token"))]) -> dict[str, str]:
    return {"user_id": token.user_id, "client_id": token.client_id}


@any_token.get("/whoami")
async def whoami(auth: AnyAuthDep) -> dict[str, str]:
    return {"token_type": auth.token_type}


for router in (oauth, api, m2m, user, any_token):
    app.include_router(router)


@app.get("/health")  # outside every group: public, like a path the middleware does not match
async def health() -> dict[str, str]:
    return {"status": "ok"}
