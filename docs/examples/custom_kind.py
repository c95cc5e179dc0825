"""A fifth token type: personal access tokens (``pat_...``) checked against your own store.

Registering the kind (its name, prefix and principal model) with a verifier is all it takes:
``Auth(accepts="pat")``, ``Auth(accepts="any")``, the OpenAPI document and the result cache
all know it from then on.
"""

import hmac
import time
from typing import Annotated, Literal

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from clerk_fastapi import Auth, Clerk, Credential, TokenKind, TokenVerificationError, Verified


class PATAuth(BaseModel):
    """What a route receives for a personal access token."""

    token_type: Literal["pat"] = "pat"
    user_id: str
    scopes: list[str] = []


PAT = TokenKind(
    name="pat",
    principal=PATAuth,
    prefixes=("pat_",),
    scheme_name="PersonalAccessToken",
    bearer_format="pat_...",
    description="A personal access token from your account settings page.",
)

TOKENS = {"pat_0123456789abcdef": PATAuth(user_id="user_42", scopes=["repo:read"])}


class PATVerifier:
    """Your own store instead of Clerk's; a valid answer may be reused for a minute."""

    def __init__(self) -> None:
        self.lookups = 0

    async def verify(self, credential: Credential) -> Verified:
        self.lookups += 1
        for secret, principal in TOKENS.items():
            if hmac.compare_digest(secret.encode(), credential.token.encode()):
                return Verified(principal, cache_until=time.time() + 60)
        raise TokenVerificationError("token-invalid", "Unknown personal access token")


def create_app(clerk: Clerk, verifier: PATVerifier) -> FastAPI:
    clerk.registry.register(PAT, verifier)
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/repos")
    async def repos(
        auth: Annotated[PATAuth, Depends(Auth(accepts="pat", scopes=["repo:read"]))],
    ) -> dict[str, str]:
        return {"user_id": auth.user_id}

    @app.get("/whoami")
    async def whoami(auth: Annotated[BaseModel, Depends(Auth(accepts="any"))]) -> dict[str, str]:
        return {"token_type": getattr(auth, "token_type", "")}

    return app


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    verifier = PATVerifier()
    app = create_app(fake.clerk(), verifier)
    pat = {"Authorization": "Bearer pat_0123456789abcdef"}
    with TestClient(app) as client:
        assert client.get("/repos", headers=pat).json() == {"user_id": "user_42"}
        assert client.get("/repos", headers=pat).status_code == 200
        assert verifier.lookups == 1  # the second request was served from the result cache
        assert client.get("/whoami", headers=pat).json() == {"token_type": "pat"}
        session = {"Authorization": f"Bearer {fake.session_token()}"}
        assert client.get("/whoami", headers=session).json() == {"token_type": "session_token"}
        wrong = client.get("/repos", headers={"Authorization": "Bearer pat_wrong_000000000"})
        assert wrong.status_code == 401 and wrong.json()["detail"]["reason"] == "token-invalid"
        assert client.get("/repos", headers=session).status_code == 401  # not a PAT
        schemes = app.openapi()["components"]["securitySchemes"]
        assert schemes["PersonalAccessToken"]["bearerFormat"] == "pat_..."
        security = app.openapi()["paths"]["/whoami"]["get"]["security"]
        assert {"PersonalAccessToken": []} in security and len(security) == 5
    assert fake.hits["api_key_verify"] == 0  # a pat_ token never reaches Clerk
    print("custom kind ok")
