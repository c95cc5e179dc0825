"""Who may spend the Backend API quota on opaque tokens Clerk has not vouched for recently.

Every never-seen well-formed ``mt_``/``oat_``/``ak_`` string costs one Backend API call, so a
stranger could spend the instance's quota (and, with ``CLERK_BAPI_RATE_LIMIT``, starve everyone
else into 503s). These limits, kept apart from the fleet-wide guard, stop one client doing that:

- a **per-client budget**: ``client_token_budget`` never-seen tokens per ``client_budget_window``
  per client address (IPv6 grouped by /64, one host's usual allocation);
- a **reserve**: never-seen tokens may take at most ``1 - rate_reserve`` of the guard's
  ``bapi_rate_limit`` per window; the rest is kept for tokens Clerk said were valid recently;
- a **per-client share** of the reserve: one client's tokens that Clerk vouched for recently
  may take at most ``client_rate_share`` of ``bapi_rate_limit`` per window, so a customer
  replaying its own valid key cannot spend everyone else's share (never-seen tokens are held by
  the budget and the never-seen share above).

With Redis (``CLERK_CACHE_URL``) every count is kept across the fleet; otherwise per process.

A token counts as *seen* for an hour after Clerk last said it was valid (its digest is kept,
never the token). Every way in counts: routes and MCP adapters pass their request's client,
``authenticate_token(client=...)`` and ``clerk.<api>.verify(client=...)`` the caller's; a
verification with no client counts against one shared bucket (``NO_CLIENT``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable

from cachetools import TTLCache

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.window import SharedWindow
from clerk_fastapi.errors import Reason, UpstreamError
from clerk_fastapi.kinds.base import Credential
from clerk_fastapi.settings import ClerkSettings

RECENT_SECONDS = 3600.0
_MAX_CLIENTS = 10_000
# The bucket of verifications that came with no client address (a bare token, a job).
NO_CLIENT = "<no client>"


def client_key(address: str | None) -> str:
    """The unit a budget is kept for: the address, an IPv6 address's /64; ``NO_CLIENT``."""
    if address is None:
        return NO_CLIENT
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class ClientBudget:
    """The budgets of one ``Clerk``; the opaque policy asks it before each Backend API call.

    With a shared store (Redis) every count is fleet-wide, under the instance's namespace (a
    client's key is hashed: no address is written to Redis); without one, or while it fails,
    each process counts on its own."""

    def __init__(
        self,
        settings: ClerkSettings,
        clock: Callable[[], float],
        store: VerificationStore | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._store = store
        self._recent: TTLCache[bytes, bool] = TTLCache(
            maxsize=max(settings.machine_cache_size, 1), ttl=RECENT_SECONDS, timer=clock
        )
        self._clients: TTLCache[str, SharedWindow] = TTLCache(
            maxsize=_MAX_CLIENTS, ttl=settings.client_budget_window, timer=clock
        )
        self._shares: TTLCache[str, SharedWindow] = TTLCache(
            maxsize=_MAX_CLIENTS, ttl=settings.bapi_rate_window, timer=clock
        )
        self._unseen = SharedWindow(store, "unseen")

    def _unseen_limit(self) -> int | None:
        """How many never-seen tokens the guard's window may hold (``None``: guard off)."""
        limit = self._settings.bapi_rate_limit
        if limit <= 0:
            return None
        return max(1, limit - math.ceil(limit * self._settings.rate_reserve))

    def _share_limit(self) -> int | None:
        """How much of the guard's window one client may spend (``None``: guard off)."""
        limit = self._settings.bapi_rate_limit
        if limit <= 0:
            return None
        return max(1, math.floor(limit * self._settings.client_rate_share))

    def _window(self, windows: TTLCache[str, SharedWindow], what: str, key: str) -> SharedWindow:
        window = windows.get(key)
        if window is None:
            hashed = hashlib.sha256(key.encode()).hexdigest()[:16]
            window = windows[key] = SharedWindow(self._store, f"{what}:{hashed}")
        return window

    async def admit(self, credential: Credential) -> None:
        """Count one Backend API call for ``credential``; raise ``UpstreamError`` (503 with
        ``Retry-After``) when its client's budget or share, or the never-seen share, is spent."""
        now = self._clock()
        key = client_key(credential.client)
        if credential.digest in self._recent:
            # Clerk vouched for it recently: it draws on the reserve, up to the client's share.
            await self._admit_recent(key, now)
        else:
            await self._admit_unseen(key, now)

    async def _admit_recent(self, key: str, now: float) -> None:
        share_limit = self._share_limit()
        if share_limit is None:
            return
        share = self._window(self._shares, "share", key)
        wait = await share.take(share_limit, self._settings.bapi_rate_window, now)
        if wait is not None:
            raise UpstreamError(
                Reason.RATE_LIMITED,
                "This client has used its share of the verification rate limit; retry later.",
                retry_after=wait,
            )

    async def _admit_unseen(self, key: str, now: float) -> None:
        budget = self._settings.client_token_budget
        if budget > 0:
            client = self._window(self._clients, "budget", key)
            wait = await client.take(budget, self._settings.client_budget_window, now)
            if wait is not None:
                raise UpstreamError(
                    Reason.RATE_LIMITED,
                    "Too many unknown tokens from this client; retry later.",
                    retry_after=wait,
                )
        share = self._unseen_limit()
        if share is not None:
            wait = await self._unseen.take(share, self._settings.bapi_rate_window, now)
            if wait is not None:
                raise UpstreamError(
                    Reason.RATE_LIMITED, "Verification rate limit reached.", retry_after=wait
                )

    def verified(self, credential: Credential) -> None:
        """Clerk said ``credential`` is valid: from now on it draws on the reserve."""
        self._recent[credential.digest] = True

    def clear(self) -> None:
        self._recent.clear()
        self._clients.clear()
        self._shares.clear()
        self._unseen = SharedWindow(self._store, "unseen")
