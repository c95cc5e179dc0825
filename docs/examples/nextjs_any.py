"""auth({ acceptsToken: 'any' }) in FastAPI: Auth(accepts="any") gives the discriminated union of the
four principals; match on it to treat users and machines differently."""

from typing import Annotated

from fastapi import Depends, FastAPI

from clerk_fastapi import APIKeyAuth, Auth, AuthObject, M2MAuth, OAuthAuth, SessionAuth

app = FastAPI()  # in production: FastAPI(lifespan=clerk.lifespan) with clerk = Clerk()


# const authObject = await auth({ acceptsToken: 'any' })
# if (authObject.tokenType === 'session_token') { ... } else { ... a machine token ... }
@app.get("/activity")
async def activity(auth: Annotated[AuthObject, Depends(Auth(accepts="any"))]) -> dict[str, str]:
    match auth:
        case SessionAuth():
            return {"kind": "user", "id": auth.user_id}
        case OAuthAuth():
            return {"kind": "oauth app", "id": auth.client_id, "on_behalf_of": auth.user_id}
        case M2MAuth():
            return {"kind": "machine", "id": auth.machine_id}
        case APIKeyAuth():
            return {"kind": "api key", "id": auth.subject}
