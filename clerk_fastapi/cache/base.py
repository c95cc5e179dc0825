"""The interface every verification cache implements.

Keys are SHA-256 digests of the exact token bytes, never tokens. The core and the verifiers use
only this interface: no other code knows which backend is in use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from clerk_fastapi.principals import Verified


class VerificationStore(Protocol):
    """Results of verification, shared as widely as the backend allows."""

    # Whether ``get_verified`` can know a result ``peek`` does not (another process's).
    shared: bool

    def peek(self, digest: bytes) -> Verified | None:
        """The in-process result for ``digest``, without any I/O (the hot path)."""
        ...

    async def get_verified(self, digest: bytes) -> Verified | None:
        """A valid, unexpired result from any tier."""
        ...

    async def put_verified(self, digest: bytes, verified: Verified) -> None:
        """Remember a result until ``verified.cache_until`` (never past the token's expiry)."""
        ...

    async def is_known_invalid(self, digest: bytes) -> bool:
        """Clerk said recently that this token does not exist (or is revoked/expired)."""
        ...

    async def put_known_invalid(self, digest: bytes) -> None: ...

    async def run_once(self, digest: bytes, fn: Callable[[], Awaitable[Verified]]) -> Verified:
        """Run ``fn`` once for all concurrent callers with the same ``digest`` (as widely as
        the backend reaches); the others get its result or its exception."""
        ...

    async def take_rate_token(self) -> float | None:
        """Count one Backend API call; ``None`` if allowed, else seconds until the next window."""
        ...

    async def warm_up(self) -> None:
        """Prepare connections at start-up; never raises."""
        ...

    def forget(self, digest: bytes) -> None:
        """Drop one token's results everywhere this store reaches (sync or async callers)."""
        ...

    def forget_kids(self, kids: set[str]) -> None:
        """Stop serving results verified with keys that left the JWKS."""
        ...

    def clear(self) -> None: ...

    async def aclose(self) -> None: ...
