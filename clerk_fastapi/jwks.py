"""The JWKS store: keys pre-built once per fetch, scoped to one Clerk instance.

Fresh for ``jwks_cache_ttl``; an unknown ``kid`` triggers one single-flight refetch, then a
cool-down; when Clerk is down, the last good keys keep serving for ``jwks_max_stale``.

An unknown ``kid`` while the last JWKS fetch failed is always 503 (with that failure's reason),
never 401: we cannot tell a forged ``kid`` from a key Clerk rotated in while it was unreachable,
and Clerk itself reports a failed JWKS load, not ``jwk-kid-mismatch``, in that case (design
section 3: a JWKS that cannot be loaded is 503). With Clerk answering, an unknown ``kid`` is 401.
With ``jwt_key`` (PEM) it is fully networkless.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.errors import (
    ClerkAPIError,
    ClerkNetworkError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.jose.keys import UnsafeKeyError, VerificationKey, keys_from_jwks
from clerk_fastapi.settings import ClerkSettings, mask_url
from clerk_fastapi.singleflight import SingleFlight

if TYPE_CHECKING:
    from clerk_fastapi.telemetry import Telemetry

logger = logging.getLogger("clerk_fastapi")

MAX_KID_LENGTH = 256


class JWKSStore:
    def __init__(
        self, settings: ClerkSettings, http: BackendHTTP, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        pem = settings.jwt_public_key
        self._pem_key = VerificationKey(kid=None, algorithm="RS256", key=pem) if pem else None
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None
        self._cooldown_from = -math.inf
        self._failed_at = -math.inf
        # How the last fetch failed, if it did (Clerk unreachable or refusing): an unknown kid
        # is then 503 with the same reason.
        self._unreachable: UpstreamError | None = None
        self._flight: SingleFlight[None] = SingleFlight()
        # Told which kids a refresh withdrew (the result cache stops serving their results).
        self.on_withdrawn: Callable[[set[str]], None] | None = None
        self.telemetry: Telemetry | None = None  # set by telemetry.instrument

    def trusts(self, kid: str) -> bool | None:
        """Whether ``kid`` is among the keys this instance trusts; ``None`` before any fetch."""
        if self._fetched_at is None:
            return None
        return kid in self._keys

    @property
    def url(self) -> str:
        """Where the keys come from, printable (no credentials)."""
        return mask_url(f"{self._settings.api_url}/{self._settings.api_version}/jwks")

    @property
    def networkless(self) -> bool:
        return self._pem_key is not None

    def clear(self) -> None:
        self._keys = {}
        self._fetched_at = None
        self._cooldown_from = -math.inf
        self._failed_at = -math.inf
        self._unreachable = None
        self._flight.clear()

    async def warm_up(self) -> None:
        """Fetch the keys at start-up. Never raises; does not start the unknown-kid cool-down."""
        if self._pem_key is not None or self._settings.secret() is None:
            return
        try:
            await self._flight.run("jwks", self._fetch)
        except UpstreamError as exc:
            # The cause, so that a wrong CLERK_API_URL or key is found from the first log line:
            # the URL (without user:password@), our reason and the status or exception type.
            logger.warning(
                "JWKS warm-up from %s failed (%s): %s; requests will retry",
                self.url,
                exc.reason,
                exc.message.rstrip("."),
            )

    async def get_key(self, kid: object) -> VerificationKey:
        if self._pem_key is not None:
            return self._pem_key  # Clerk does not compare the kid in PEM mode.
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise TokenVerificationError(Reason.TOKEN_INVALID, "The token has no usable kid.")
        now = self._clock()
        fetched_in_this_call = False
        if self._fetched_at is None or now - self._fetched_at >= self._settings.jwks_cache_ttl:
            await self._refresh_or_serve_stale(now)
            fetched_in_this_call = True
        key = self._keys.get(kid)
        if key is not None:
            return key
        # Join a refetch already in flight (it may bring this kid); else start one unless the
        # cool-down since the last refetch is still running.
        in_flight = self._flight.active("jwks")
        cooled = now - self._cooldown_from >= self._settings.jwks_refetch_cooldown
        if not fetched_in_this_call and (in_flight or cooled):
            if not in_flight:
                self._cooldown_from = now
            await self._flight.run("jwks", self._fetch)
            key = self._keys.get(kid)
            if key is not None:
                return key
        failure = self._unreachable
        if failure is not None:
            raise UpstreamError(
                failure.reason,
                f"The token's kid is not among the cached keys, and the JWKS cannot be loaded "
                f"now ({failure.message.rstrip('.')}).",
                retry_after=failure.retry_after,
            )
        raise TokenVerificationError(
            Reason.JWK_KID_MISMATCH,
            "Unable to find a signing key in the JWKS that matches the token's kid.",
        )

    async def _refresh_or_serve_stale(self, now: float) -> None:
        fetched = self._fetched_at
        stale_limit = self._settings.jwks_cache_ttl + self._settings.jwks_max_stale
        can_serve_stale = bool(self._keys) and fetched is not None and now - fetched < stale_limit
        # While Clerk is failing, probe it once per cool-down, not on every request (a hanging
        # JWKS endpoint would otherwise add the whole http_timeout to each one).
        if can_serve_stale and now - self._failed_at < self._settings.jwks_refetch_cooldown:
            return
        self._cooldown_from = now
        try:
            await self._flight.run("jwks", self._fetch)
        except UpstreamError:
            if can_serve_stale and fetched is not None:
                self._failed_at = now
                logger.warning(
                    "JWKS refresh failed; serving keys fetched %.0f s ago", now - fetched
                )
                return
            raise

    async def _fetch(self) -> None:
        try:
            if self.telemetry is None:
                await self._load()
            else:
                with self.telemetry.jwks_fetch():
                    await self._load()
        except UpstreamError as exc:
            self._unreachable = exc
            raise
        self._unreachable = None

    async def _load(self) -> None:
        secret = self._settings.secret()
        if secret is None:
            logger.error("Cannot load the JWKS: set CLERK_SECRET_KEY (or CLERK_JWT_KEY).")
            raise UpstreamError(
                Reason.JWK_FAILED_TO_RESOLVE,
                "No secret key to fetch the JWKS with. Set CLERK_SECRET_KEY.",
            )
        path = f"/{self._settings.api_version}/jwks"
        try:
            document = await self._http.request("GET", path, secret=secret)
        except ClerkNetworkError as exc:
            # Clerk's reason for a fetch that throws (no answer): unexpected-error.
            raise UpstreamError(Reason.UNEXPECTED_ERROR, exc.message) from None
        except ClerkAPIError as exc:
            if exc.status in (401, 403):
                logger.error(
                    "Clerk refused our secret key when loading the JWKS (status %s, code %s): "
                    "check CLERK_SECRET_KEY",
                    exc.status,
                    exc.code,
                )
                raise UpstreamError(
                    Reason.SECRET_KEY_INVALID, "Clerk rejected the secret key."
                ) from None
            raise UpstreamError(
                # A 2xx that is not JSON fails to parse in Clerk too: unexpected-error.
                Reason.UNEXPECTED_ERROR if exc.status < 300 else Reason.JWK_REMOTE_FAILED_TO_LOAD,
                f"Error loading the Clerk JWKS (status {exc.status}).",
                retry_after=exc.retry_after,
            ) from None
        try:
            keys, refused = keys_from_jwks(document)
        except UnsafeKeyError as exc:
            raise UpstreamError(
                Reason.JWK_REMOTE_INVALID, f"The JWKS is malformed: {exc}."
            ) from None
        for why in refused:
            logger.warning("Refused a JWKS key: %s", why)
        if not keys:
            raise UpstreamError(
                Reason.JWK_REMOTE_FAILED_TO_LOAD,
                "The JWKS endpoint did not contain any usable signing keys.",
            )
        # Replace rather than merge (Clerk merges): a key Clerk withdrew stops verifying at once,
        # and results verified with it stop being served.
        withdrawn = set(self._keys) - set(keys)
        self._keys = keys
        self._fetched_at = self._clock()
        if withdrawn and self.on_withdrawn is not None:
            self.on_withdrawn(withdrawn)
