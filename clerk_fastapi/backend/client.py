"""The Backend API's machine-auth groups (tokens, API keys, machines): HTTP calls and typed
resources only.

Every call is a coroutine over the ``Clerk``'s pooled HTTP client and raises ``ClerkAPIError``
when Clerk answered an error (or an unusable 2xx) and ``ClerkNetworkError`` when Clerk did not
answer. None of them ever carries a secret key or a token. Verifying a token is not done here:
``clerk.m2m.verify`` and friends live with their token kind (``clerk_fastapi.kinds``).
"""

from __future__ import annotations

from clerk_fastapi.backend.api_keys import APIKeys
from clerk_fastapi.backend.m2m import M2MTokens
from clerk_fastapi.backend.machines import Machines
from clerk_fastapi.backend.oauth import OAuthTokens

__all__ = ["APIKeys", "M2MTokens", "Machines", "OAuthTokens"]
