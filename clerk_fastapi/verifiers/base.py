"""The verifier protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from clerk_fastapi.tokens import Credential


@dataclass(frozen=True, slots=True)
class Verified:
    """A verified principal and how long the result may be reused (``None``: do not cache).

    ``cache_until`` is a time on the ``Clerk``'s clock and never later than the token's expiry.
    """

    principal: BaseModel
    cache_until: float | None = None


@runtime_checkable
class TokenVerifier(Protocol):
    """Verify one credential of the registered type.

    Return a ``Verified`` (or a bare principal, never cached). Raise ``TokenVerificationError``
    when the token is not valid (401) and ``UpstreamError`` when it cannot be decided now (503).
    """

    async def verify(self, credential: Credential) -> Verified | BaseModel: ...
