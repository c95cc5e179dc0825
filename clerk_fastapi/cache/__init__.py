"""Verification caches behind one interface: in-process (default) or shared on Redis."""

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.local import LocalStore

__all__ = ["LocalStore", "VerificationStore", "make_store"]


def make_store(settings: object, clock: object) -> VerificationStore:
    """The store the settings ask for: Redis when ``cache_url`` is set, else in-process."""
    from collections.abc import Callable

    from clerk_fastapi.settings import ClerkSettings

    assert isinstance(settings, ClerkSettings) and callable(clock)
    timer: Callable[[], float] = clock
    if settings.cache_url:
        from clerk_fastapi.cache.redis import RedisStore

        return RedisStore(settings, timer)
    return LocalStore(settings, timer)
