"""The interface every verification cache implements.

Keys are SHA-256 digests of the exact token bytes, never tokens. The core and the verifiers use
only this interface: no other code knows which backend is in use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from clerk_fastapi.principals import Verified

# ``(digest, fn)``: run ``fn`` once for every process sharing the store.
SharedOnce = Callable[[bytes, Callable[[], Awaitable[Verified]]], Awaitable[Verified]]


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

    # Primitives for the call policy (cache/policy.py), which decides with them.
    @property
    def coalesce_shared(self) -> SharedOnce | None:
        """Runs ``fn`` once across the fleet for ``digest`` (``None``: no fleet to reach)."""
        ...

    async def count_shared(self, name: str, ttl_ms: int) -> int | None:
        """Add one to the fleet-wide counter ``name`` (kept ``ttl_ms``) and return its count;
        ``None`` when the store has no shared counter or it failed."""
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
