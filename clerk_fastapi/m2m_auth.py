"""The calling side of M2M: an ``httpx.Auth`` (and ``httpx2.Auth``) that sends this machine's
M2M token.

``clerk.m2m.auth()`` builds one; pass it to ``httpx.AsyncClient(auth=...)`` or
``httpx2.AsyncClient(auth=...)`` (MCP and FastMCP clients use ``httpx2``). It creates a token
with the machine secret key on the first request, keeps it until shortly before it expires, and
renews it once for all concurrent requests (one Backend API call, not one per request). When the
target service answers 401 (the token was revoked, or the target no longer accepts it), it
renews once, shared by every request that saw the same token refused, and retries the request
once; a second 401 is returned to the caller.

It sits beside ``jwks`` in the layers for the same reason: it fetches a credential from the
Backend API (through the leaf client, ``backend.m2m``) and keeps it with single-flight renewal.
It knows nothing of verification, kinds or FastAPI, so a calling service that is not a FastAPI
app can use it too.

Only async clients (``httpx.AsyncClient``, ``httpx2.AsyncClient``) are supported: the package's
Backend API client is async (one pooled client per event loop), and a blocking variant would need
a second HTTP stack and thread locks.
A synchronous caller creates a token with ``clerk.m2m.create()`` (in ``anyio.run``) and sets the
header itself; see docs/service-to-service.md.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from clerk_fastapi.backend.m2m import M2MTokens
from clerk_fastapi.backend.resources import M2MToken, epoch_seconds
from clerk_fastapi.errors import ClerkAPIError
from clerk_fastapi.httpx_compat import AuthBase
from clerk_fastapi.singleflight import SingleFlight

TokenFormat = Literal["opaque", "jwt"]


@dataclass(frozen=True)
class _Held:
    token: str = field(repr=False)
    token_id: str
    refresh_at: float | None  # on the clock; None: the token does not expire


class ClerkM2MAuth(AuthBase):
    """``httpx.AsyncClient(auth=clerk.m2m.auth())`` (or ``httpx2.AsyncClient``): every request
    carries this machine's M2M token in ``Authorization: Bearer ...``. The flow below uses only
    what the two libraries share (``clerk_fastapi.httpx_compat``).

    ``seconds_until_expiration``, ``claims``, ``token_format`` and ``min_remaining_ttl_seconds``
    are passed to ``clerk.m2m.create`` (``None``: the machine's default lifetime). The token is
    renewed ``renew_before`` seconds before it expires (at most half its lifetime before).
    Errors creating a token (``ClerkAPIError``, ``ClerkNetworkError``) are raised from the
    request. The token never appears in a repr, an exception or a log line.
    """

    requires_request_body = True  # see async_auth_flow

    def __init__(
        self,
        tokens: M2MTokens,
        *,
        seconds_until_expiration: int | None = None,
        claims: dict[str, Any] | None = None,
        token_format: TokenFormat = "opaque",  # noqa: S107 (not a secret)
        min_remaining_ttl_seconds: int | None = None,
        machine_secret_key: str | None = None,
        renew_before: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if token_format not in ("opaque", "jwt"):
            raise ValueError("token_format must be 'opaque' or 'jwt'")
        if seconds_until_expiration is not None and seconds_until_expiration <= 0:
            raise ValueError("seconds_until_expiration must be positive")
        if min_remaining_ttl_seconds is not None:
            if token_format == "jwt":
                raise ValueError("min_remaining_ttl_seconds applies to opaque tokens only")
            if min_remaining_ttl_seconds < 0 or (
                seconds_until_expiration is not None
                and min_remaining_ttl_seconds >= seconds_until_expiration
            ):
                raise ValueError("min_remaining_ttl_seconds must be less than the token's lifetime")
        if renew_before < 0:
            raise ValueError("renew_before must not be negative")
        self._tokens = tokens
        self._create_args: dict[str, Any] = {
            "seconds_until_expiration": seconds_until_expiration,
            "claims": claims,
            "token_format": token_format,
            "machine_secret_key": machine_secret_key,
        }
        self._min_remaining = min_remaining_ttl_seconds
        self._renew_before = renew_before
        self._clock = clock
        self._held: _Held | None = None
        self._flight: SingleFlight[str] = SingleFlight()

    # -- the token ------------------------------------------------------------------------------

    @property
    def token_id(self) -> str | None:
        """The id (``mt_...``, not the token) of the token in use, if one was created."""
        return self._held.token_id if self._held else None

    def invalidate(self) -> None:
        """Forget the token: the next request creates a new one (after a key rotation)."""
        self._held = None

    def _usable(self, held: _Held | None, refused: str | None) -> bool:
        if held is None or held.token == refused:
            return False
        return held.refresh_at is None or self._clock() < held.refresh_at

    async def token(self, *, refused: str | None = None) -> str:
        """The token to send; ``refused``: a token the target answered 401 to."""
        if self._usable(self._held, refused):
            assert self._held is not None
            return self._held.token
        # Every request that finds the token missing, due or refused joins one renewal.
        return await self._flight.run("renew", lambda: self._renew(refused))

    async def _renew(self, refused: str | None) -> str:
        if self._usable(self._held, refused):  # renewed while this caller was scheduled
            assert self._held is not None
            return self._held.token
        # After a 401, ask for a new token: Clerk could hand back the refused one otherwise.
        min_remaining = None if refused is not None else self._min_remaining
        created = await self._tokens.create(
            **self._create_args, min_remaining_ttl_seconds=min_remaining
        )
        if not created.token:
            raise ClerkAPIError(200, [{"code": "invalid_response_body", "message": "No token"}])
        self._held = _Held(created.token, created.id, self._refresh_at(created))
        return created.token

    def _refresh_at(self, created: M2MToken) -> float | None:
        expires = epoch_seconds(created.expiration)
        if expires is None:
            return None
        lifetime = max(expires - self._clock(), 0.0)
        return expires - min(self._renew_before, lifetime / 2)

    # -- httpx ----------------------------------------------------------------------------------

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # httpx reads the body only in the flow this method replaces: a streamed body must be
        # in memory before the first attempt for the retry after a 401 to send it again.
        await request.aread()
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # Revoked, or refused by the target: one shared renewal, then one retry.
        request.headers["Authorization"] = f"Bearer {await self.token(refused=token)}"
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(
            "ClerkM2MAuth works with async clients only (httpx.AsyncClient, httpx2.AsyncClient); "
            "in synchronous code create a token "
            "with clerk.m2m.create() and send it yourself (docs: Service to service)."
        )
        yield request  # pragma: no cover (makes this a generator, as httpx expects)

    def __repr__(self) -> str:
        state = "none" if self._held is None else f"id={self._held.token_id}"
        return f"ClerkM2MAuth(token_format={self._create_args['token_format']!r}, token={state})"
