"""The shared verification cache on Redis (``CLERK_CACHE_URL``).

- ``connection``: one client per loop, deadlines, back-off, reply-shape checks
- ``codec``: the sealed value format (secret-derived keys, expiry, decision policy)
- ``fleet``: fleet-wide coalescing of opaque-token verification
- ``rate``: the fleet-wide counter the rate guard (``cache/policy.py``) counts with
- ``store``: ``RedisStore``, composing the above behind the in-process ``LocalStore``
"""

from clerk_fastapi.cache.redis.store import RedisStore

__all__ = ["RedisStore"]
