"""Ready ``Annotated`` aliases for the common cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from clerk_fastapi.fastapi_auth.dependency import Auth
from clerk_fastapi.kinds import API_KEY, M2M_TOKEN, OAUTH_TOKEN, AuthObject
from clerk_fastapi.principals import APIKeyAuth, M2MAuth, OAuthAuth, SessionAuth

SessionDep = Annotated[SessionAuth, Depends(Auth())]
"""A signed-in user (session token)."""

OptionalSessionDep = Annotated[SessionAuth | None, Depends(Auth(optional=True))]
"""A signed-in user, or ``None`` when no credentials were sent."""

OAuthDep = Annotated[OAuthAuth, Depends(Auth(accepts=OAUTH_TOKEN))]
"""A third-party app acting for a user (OAuth access token)."""

M2MDep = Annotated[M2MAuth, Depends(Auth(accepts=M2M_TOKEN))]
"""Another of your services (M2M token)."""

APIKeyDep = Annotated[APIKeyAuth, Depends(Auth(accepts=API_KEY))]
"""A user's or organisation's script (API key)."""

AnyAuthDep = Annotated[AuthObject, Depends(Auth(accepts="any"))]
"""Any of the four; branch on ``token_type``."""
