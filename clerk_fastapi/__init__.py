"""clerk-fastapi: accept every kind of Clerk credential in FastAPI.

```python
from clerk_fastapi import Auth, Clerk, SessionAuth

clerk = Clerk()
app = FastAPI(lifespan=clerk.lifespan)

@app.get("/me")
async def me(auth: Annotated[SessionAuth, Depends(Auth())]):
    return {"user_id": auth.user_id}
```
"""

from clerk_fastapi._version import __version__
from clerk_fastapi.auth.events import AuthEvent
from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.backend.machines import Machines
from clerk_fastapi.backend.resources import (
    APIKey,
    APIKeySecret,
    DeletedObject,
    M2MToken,
    Machine,
    MachineScope,
    MachineSecretKey,
    OAuthAccessToken,
    Page,
)
from clerk_fastapi.errors import (
    ClerkAPIError,
    ClerkError,
    ClerkNetworkError,
    ConfigurationError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.fastapi_auth.aliases import (
    AnyAuthDep,
    APIKeyDep,
    M2MDep,
    OAuthDep,
    OptionalSessionDep,
    SessionDep,
)
from clerk_fastapi.fastapi_auth.app import FastAPIClerk as Clerk
from clerk_fastapi.fastapi_auth.dependency import Auth, get_clerk
from clerk_fastapi.fastapi_auth.errors import ClerkAuthError
from clerk_fastapi.fastapi_auth.openapi import document_webhooks
from clerk_fastapi.fastapi_auth.webhook import ClerkWebhook
from clerk_fastapi.kinds import (
    AuthObject,
    Credential,
    KindRegistry,
    TokenKind,
    TokenType,
    TokenVerifier,
)
from clerk_fastapi.kinds.api_key import APIKeysClient
from clerk_fastapi.kinds.m2m import M2MClient
from clerk_fastapi.kinds.oauth import OAuthClient
from clerk_fastapi.m2m_auth import ClerkM2MAuth
from clerk_fastapi.principals import APIKeyAuth, M2MAuth, OAuthAuth, SessionAuth, Verified
from clerk_fastapi.settings import ClerkSettings

__all__ = [
    "APIKey",
    "APIKeyAuth",
    "APIKeyDep",
    "APIKeySecret",
    "APIKeysClient",
    "AnyAuthDep",
    "Auth",
    "AuthEvent",
    "AuthObject",
    "Clerk",
    "ClerkAPIError",
    "ClerkAuthError",
    "ClerkError",
    "ClerkM2MAuth",
    "ClerkNetworkError",
    "ClerkSettings",
    "ClerkWebhook",
    "ConfigurationError",
    "Credential",
    "DeletedObject",
    "KindRegistry",
    "M2MAuth",
    "M2MClient",
    "M2MDep",
    "M2MToken",
    "Machine",
    "MachineScope",
    "MachineSecretKey",
    "Machines",
    "OAuthAccessToken",
    "OAuthAuth",
    "OAuthClient",
    "OAuthDep",
    "OptionalSessionDep",
    "Page",
    "Reason",
    "RequestState",
    "SessionAuth",
    "SessionDep",
    "TokenKind",
    "TokenType",
    "TokenVerificationError",
    "TokenVerifier",
    "UpstreamError",
    "Verified",
    "__version__",
    "document_webhooks",
    "get_clerk",
]
