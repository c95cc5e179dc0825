"""What the opaque kinds (``mt_``, ``oat_``, ``ak_``) share.

``read_answer`` turns a verify endpoint's answer into a resource the same way for a route and for
``clerk.<api>.verify()``. ``OpaquePolicy`` is what only the request path adds around it: a
format pre-check (no network for impossible tokens), a short negative cache, one coalesced
Backend API call per token however many requests carry it, the per-client budget and reserve
(``_budget``), the fleet-wide rate guard, and how long a valid answer may be reused.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, ValidationError

from clerk_fastapi.backend.resources import Resource, epoch_seconds
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.policy import CallPolicy
from clerk_fastapi.errors import (
    ClerkAPIError,
    ClerkNetworkError,
    Reason,
    TokenVerificationError,
    UpstreamError,
    map_upstream,
)
from clerk_fastapi.kinds._budget import ClientBudget
from clerk_fastapi.kinds.base import Credential, TokenKind, token_digest
from clerk_fastapi.kinds.context import KindContext
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

R = TypeVar("R", bound=Resource)

# What Clerk issues after the prefix: ASCII letters, digits and _ - + / = . (design section 7).
OPAQUE_BODY = re.compile(r"[A-Za-z0-9_\-+/=.]{8,509}")
OPAQUE_MAX_LENGTH = 512
# Everything a request waits for Clerk (its own call, another request's or another worker's
# answer) fits in CLERK_HTTP_TIMEOUT plus this margin (Redis round trips, scheduling).
WAIT_MARGIN = 0.5


def format_ok(token: str, prefixes: tuple[str, ...]) -> bool:
    """Cheap syntactic pre-check, before any network call."""
    if len(token) > OPAQUE_MAX_LENGTH:
        return False
    for prefix in prefixes:
        if token.startswith(prefix):
            return OPAQUE_BODY.fullmatch(token, len(prefix)) is not None
    return False


def not_found(message: str) -> TokenVerificationError:
    return TokenVerificationError(Reason.TOKEN_INVALID, message)


async def read_answer(call: Awaitable[Any], model: type[R], not_found_message: str) -> R:
    """Await a verify call and build its resource.

    A 404, and a 200 that says the token is not valid (``revoked``, ``expired``,
    ``active: false``: Clerk's JS SDK trusts any 200, we do not), raise
    ``TokenVerificationError``; other failures stay ``ClerkAPIError``/``ClerkNetworkError``.
    """
    try:
        data = await call
    except ClerkAPIError as exc:
        if exc.status == 404:
            raise not_found(not_found_message) from None
        raise
    if not isinstance(data, dict):
        raise TokenVerificationError(Reason.TOKEN_INVALID, "Clerk's answer is not valid.")
    if data.get("active") is False or data.get("revoked") is True or data.get("expired") is True:
        raise not_found(not_found_message)
    try:
        resource = model.model_validate(data)
    except ValidationError:
        raise TokenVerificationError(Reason.TOKEN_INVALID, "Clerk's answer is not valid.") from None
    return resource


class OpaquePolicy:
    """The request path's policy around one opaque kind's verify call."""

    def __init__(
        self,
        *,
        prefixes: tuple[str, ...],
        not_found_message: str,
        settings: ClerkSettings,
        store: VerificationStore,
        clock: Callable[[], float],
        budget: ClientBudget | None = None,
        calls: CallPolicy | None = None,
    ) -> None:
        self._budget = budget or ClientBudget(settings, clock, store)
        self._calls = calls or CallPolicy(store, settings, clock)
        self._prefixes = prefixes
        self._not_found = not_found_message
        self._settings = settings
        self._store = store
        self._clock = clock

    async def verify(
        self, credential: Credential, fetch: Callable[[], Awaitable[Verified]], what: str
    ) -> Verified:
        """Run ``fetch`` (ask Clerk, map the answer) under the policy."""
        if not format_ok(credential.token, self._prefixes):
            raise TokenVerificationError(Reason.TOKEN_INVALID, "The token's format is not valid.")
        key = credential.digest
        if await self._store.is_known_invalid(key):
            raise not_found(self._not_found)
        # The coalesced call runs on (shielded) whatever the waiters do: leaving it here at the
        # deadline costs the others nothing.
        with anyio.move_on_after(self._settings.http_timeout + WAIT_MARGIN):
            return await self._calls.run_once(key, lambda: self._call(credential, fetch, what))
        raise UpstreamError(Reason.UNEXPECTED_ERROR, f"Clerk did not verify the {what} in time.")

    async def _call(
        self, credential: Credential, fetch: Callable[[], Awaitable[Verified]], what: str
    ) -> Verified:
        key = credential.digest
        await self._spend(credential)
        try:
            verified = await fetch()
        except TokenVerificationError:
            await self._store.put_known_invalid(key)
            raise
        except (ClerkAPIError, ClerkNetworkError) as exc:
            raise map_upstream(exc, what=f"verifying a {what}") from None
        self._budget.verified(credential)
        return verified

    async def _spend(self, credential: Credential) -> None:
        # Per-client budget and share, and the reserve for recently verified tokens
        # (``_budget``), before the fleet-wide guard: a refused stranger spends nothing of it.
        await self._budget.admit(credential)
        wait = await self._calls.take_rate_token()
        if wait is not None:
            # Our own fleet-wide guard: answer 503 before Clerk would answer 429.
            raise UpstreamError(
                Reason.RATE_LIMITED, "Verification rate limit reached.", retry_after=wait
            )

    async def direct(
        self, token: str, client: str | None, fetch: Callable[[], Awaitable[R]], what: str
    ) -> R:
        """``clerk.<api>.verify``: the same budgets and fleet-wide guard as a route, counted
        for ``client`` (``None``: the shared no-client bucket); no caching (the caller asked
        Clerk). Raises ``UpstreamError`` when a budget is spent."""
        credential = Credential(token, what, client=client, digest=token_digest(token))
        await self._spend(credential)
        resource = await fetch()
        self._budget.verified(credential)
        return resource

    @classmethod
    def for_kind(cls, kind: TokenKind, ctx: KindContext) -> OpaquePolicy:
        return cls(
            prefixes=kind.prefixes,
            not_found_message=kind.not_found,
            settings=ctx.settings,
            store=ctx.store,
            clock=ctx.clock,
            budget=ctx.budget,
            calls=ctx.calls,
        )

    def verified(self, principal: BaseModel, expiration_ms: int | None) -> Verified:
        """A principal Clerk's Backend API vouched for, reusable as long as the policy allows."""
        return Verified(principal, self.cache_until(expiration_ms), opaque=True)

    def cache_until(self, expiration_ms: int | None) -> float | None:
        """How long a valid answer may be reused: off by default (revocation is instant)."""
        ttl = self._settings.machine_token_cache_ttl
        if ttl <= 0:
            return None
        until = self._clock() + ttl
        expires = epoch_seconds(expiration_ms)
        if expires is not None:
            until = min(until, expires)
        return until
