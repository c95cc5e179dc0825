"""Replace the API-key verifier with your own store (the registry holds one verifier per type)."""

import hmac
from typing import Annotated

from fastapi import Depends, FastAPI

from clerk_fastapi import APIKeyAuth, Auth, Clerk, Credential, TokenVerificationError, Verified

KEYS = {"ak_internal_0123456789abcdef": APIKeyAuth(id="key_1", subject="user_ops", scopes=["ops"])}


class StaticAPIKeys:
    """Keys from your own database instead of Clerk's Backend API."""

    async def verify(self, credential: Credential) -> Verified:
        for secret, principal in KEYS.items():
            if hmac.compare_digest(secret.encode(), credential.token.encode()):
                return Verified(principal)  # no cache_until: checked on every request
        raise TokenVerificationError("token-invalid", "API key not found")


def create_app(clerk: Clerk) -> FastAPI:
    clerk.registry.register("api_key", StaticAPIKeys())
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/ops")
    async def ops(
        key: Annotated[APIKeyAuth, Depends(Auth(accepts="api_key", scopes=["ops"]))],
    ) -> dict[str, str]:
        return {"subject": key.subject}

    return app


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk()
    with TestClient(create_app(fake.clerk())) as client:
        ok = client.get("/ops", headers={"Authorization": "Bearer ak_internal_0123456789abcdef"})
        assert ok.json() == {"subject": "user_ops"}
        bad = client.get("/ops", headers={"Authorization": "Bearer ak_internal_wrong_000000000"})
        assert bad.status_code == 401 and fake.hits["api_key_verify"] == 0
    print("custom verifier ok")
