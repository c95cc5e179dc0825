"""Opaque machine tokens (``mt_``, ``oat_``, ``ak_``), verified by Clerk's Backend API.

A format pre-check first (no network for impossible tokens), then a short negative cache, then
one coalesced Backend API call per token however many requests carry it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from clerk_fastapi.backend.http import BackendHTTP
from clerk_fastapi.backend.resources import APIKey, M2MToken, OAuthAccessToken, _Resource
from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.errors import (
    ClerkAPIError,
    ClerkNetworkError,
    Reason,
    TokenVerificationError,
    UpstreamError,
)
from clerk_fastapi.models import APIKeyAuth, M2MAuth, OAuthAuth
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.tokens import Credential, opaque_format_ok
from clerk_fastapi.verifiers.base import Verified

logger = logging.getLogger("clerk_fastapi")


@dataclass(frozen=True, slots=True)
class OpaqueKind:
    token_type: str
    path: str
    body_key: str
    not_found: str
    resource: type[_Resource]
    machine_secret: bool = False


M2M_KIND = OpaqueKind(
    "m2m_token", "/m2m_tokens/verify", "token", "Machine token not found", M2MToken, True
)
API_KEY_KIND = OpaqueKind("api_key", "/api_keys/verify", "secret", "API key not found", APIKey)
OAUTH_KIND = OpaqueKind(
    "oauth_token",
    "/oauth_applications/access_tokens/verify",
    "access_token",
    "OAuth token not found",
    OAuthAccessToken,
)


def principal_from_resource(resource: _Resource) -> BaseModel:
    common: dict[str, Any] = {
        "id": resource.id,
        "subject": resource.subject,
        "scopes": resource.scopes,
        "claims": resource.claims,
        "expiration": resource.expiration_datetime,
    }
    if isinstance(resource, M2MToken):
        return M2MAuth(machine_id=resource.subject, **common)
    if isinstance(resource, OAuthAccessToken):
        return OAuthAuth(client_id=resource.client_id, user_id=resource.subject, **common)
    assert isinstance(resource, APIKey)
    subject = resource.subject
    return APIKeyAuth(
        name=resource.name,
        user_id=subject if subject.startswith("user_") else None,
        org_id=subject if subject.startswith("org_") else None,
        **common,
    )


class OpaqueTokenVerifier:
    def __init__(
        self,
        kind: OpaqueKind,
        settings: ClerkSettings,
        http: BackendHTTP,
        clock: Callable[[], float],
        store: VerificationStore,
    ) -> None:
        self.kind = kind
        self._settings = settings
        self._http = http
        self._clock = clock
        self._store = store
        self.calls = 0
        self.backend_calls = 0

    def _not_found(self) -> TokenVerificationError:
        return TokenVerificationError(Reason.TOKEN_INVALID, self.kind.not_found)

    async def verify(self, credential: Credential) -> Verified:
        self.calls += 1
        if not opaque_format_ok(credential.token):
            raise TokenVerificationError(Reason.TOKEN_INVALID, "The token's format is not valid.")
        key = credential.digest
        if await self._store.is_known_invalid(key):
            raise self._not_found()
        return await self._store.run_once(key, lambda: self._call(credential))

    def _secret(self) -> str:
        secret = (
            self._settings.machine_secret() if self.kind.machine_secret else self._settings.secret()
        )
        if secret is None:
            logger.error(
                "Cannot verify %s tokens: set CLERK_SECRET_KEY%s",
                self.kind.token_type,
                " or CLERK_MACHINE_SECRET_KEY" if self.kind.machine_secret else "",
            )
            raise UpstreamError(Reason.SECRET_KEY_INVALID, "No secret key is configured.")
        return secret

    async def _call(self, credential: Credential) -> Verified:
        secret = self._secret()
        wait = await self._store.take_rate_token()
        if wait is not None:
            # Our own fleet-wide guard: answer 503 before Clerk would answer 429.
            raise UpstreamError(
                Reason.RATE_LIMITED, "Verification rate limit reached.", retry_after=wait
            )
        self.backend_calls += 1
        try:
            body = await self._http.request(
                "POST", self.kind.path, secret=secret, json={self.kind.body_key: credential.token}
            )
        except ClerkNetworkError as exc:
            raise UpstreamError(Reason.UNEXPECTED_ERROR, exc.message) from None
        except ClerkAPIError as exc:
            if exc.status == 404:
                await self._store.put_known_invalid(credential.digest)
                raise self._not_found() from None
            if exc.status == 401:
                logger.error(
                    "Clerk rejected our secret key verifying a %s (code %s): check the "
                    "configured secret key",
                    self.kind.token_type,
                    exc.code,
                )
                raise UpstreamError(Reason.SECRET_KEY_INVALID, "Invalid secret key") from None
            raise UpstreamError(
                Reason.UNEXPECTED_ERROR, "Unexpected error", retry_after=exc.retry_after
            ) from None
        if not isinstance(body, dict):
            raise TokenVerificationError(Reason.TOKEN_INVALID, "Clerk's answer is not valid.")
        if (
            body.get("active") is False
            or body.get("revoked") is True
            or body.get("expired") is True
        ):
            await self._store.put_known_invalid(credential.digest)
            raise self._not_found()
        try:
            resource = self.kind.resource.model_validate(body)
        except ValidationError:
            raise TokenVerificationError(
                Reason.TOKEN_INVALID, "Clerk's answer is not valid."
            ) from None
        now = self._clock()
        if resource.expiration is not None and resource.expiration / 1000 <= now:
            raise self._not_found()
        return Verified(principal_from_resource(resource), self._cache_until(resource, now))

    def _cache_until(self, resource: _Resource, now: float) -> float | None:
        ttl = self._settings.machine_token_cache_ttl
        if ttl <= 0:
            return None  # default: revocation is instant
        until = now + ttl
        if resource.expiration is not None:
            until = min(until, resource.expiration / 1000)
        return until


class MachineTokenVerifier:
    """One token type that comes as a JWT or as an opaque token (M2M and OAuth)."""

    def __init__(self, jwt_verifier: Any, opaque_verifier: OpaqueTokenVerifier) -> None:
        self.jwt = jwt_verifier
        self.opaque = opaque_verifier

    async def verify(self, credential: Credential) -> Verified:
        if credential.jws is not None:
            result: Verified = await self.jwt.verify(credential)
            return result
        return await self.opaque.verify(credential)
