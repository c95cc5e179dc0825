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
from clerk_fastapi.fastapi_auth.app import Clerk
from clerk_fastapi.fastapi_auth.dependency import Auth, get_clerk
from clerk_fastapi.fastapi_auth.errors import ClerkAuthError
from clerk_fastapi.fastapi_auth.openapi import document_webhooks
from clerk_fastapi.fastapi_auth.webhook import ClerkWebhook
from clerk_fastapi.kinds import Credential, TokenKind, TokenVerifier
from clerk_fastapi.principals import (
    APIKeyAuth,
    AuthObject,
    M2MAuth,
    OAuthAuth,
    SessionAuth,
    TokenType,
    Verified,
)
from clerk_fastapi.settings import ClerkSettings

__all__ = [
    "APIKeyAuth",
    "APIKeyDep",
    "AnyAuthDep",
    "Auth",
    "AuthEvent",
    "AuthObject",
    "Clerk",
    "ClerkAPIError",
    "ClerkAuthError",
    "ClerkError",
    "ClerkNetworkError",
    "ClerkSettings",
    "ClerkWebhook",
    "ConfigurationError",
    "Credential",
    "M2MAuth",
    "M2MDep",
    "OAuthAuth",
    "OAuthDep",
    "OptionalSessionDep",
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
