"""The machine-auth Backend API clients a ``Clerk`` carries.

``clerk.m2m`` (``M2MTokens``), ``clerk.api_keys`` (``APIKeys``) and ``clerk.oauth_tokens``
(``OAuthTokens``). Every call is a coroutine over the ``Clerk``'s pooled HTTP client and raises:

- ``TokenVerificationError`` from a ``verify`` whose token is not valid;
- ``ClerkAPIError`` when Clerk answered any other error (or an unusable 2xx);
- ``ClerkNetworkError`` when Clerk did not answer.

None of them ever carries a secret key or a token.
"""

from __future__ import annotations

from clerk_fastapi.backend.api_keys import APIKeys
from clerk_fastapi.backend.m2m import M2MTokens, m2m_token_from_jwt
from clerk_fastapi.backend.oauth import OAuthTokens, oauth_token_from_jwt

__all__ = ["APIKeys", "M2MTokens", "OAuthTokens", "m2m_token_from_jwt", "oauth_token_from_jwt"]
