"""Verification caches behind one interface: in-process (default) or shared on Redis."""

from collections.abc import Callable, Mapping

from pydantic import BaseModel

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.cache.results import Rebuild
from clerk_fastapi.settings import ClerkSettings

__all__ = ["LocalStore", "VerificationStore", "make_store"]


def make_store(
    settings: ClerkSettings,
    clock: Callable[[], float],
    models: Callable[[], Mapping[str, type[BaseModel]]],
    key_alive: Callable[[str], bool | None],
    rebuild: Rebuild | None = None,
) -> VerificationStore:
    """The store the settings ask for: Redis when ``cache_url`` is set, else in-process.

    ``models`` gives the principal model of each registered token type (the shared tier
    rebuilds results with them; a type it does not know is not shared); ``key_alive`` says
    whether a signing key is in this instance's JWKS (``None``: not loaded yet; a shared
    result signed with a key it does not trust is not served).
    """
    if settings.cache_url:
        from clerk_fastapi.cache.redis import RedisStore

        return RedisStore(settings, clock, models, key_alive, rebuild)
    return LocalStore(settings, clock, rebuild)
