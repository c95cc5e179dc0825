"""``ClerkSettings``: one frozen settings object, read from ``CLERK_*`` environment variables."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from clerk_fastapi.jose.keys import load_rsa_public_pem

logger = logging.getLogger("clerk_fastapi")


def _split_list(value: Any) -> Any:
    """Accept a JSON array or a comma-separated list (design section 7)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not a valid JSON array: {exc}") from None
            return parsed
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def decode_publishable_key(key: str) -> str:
    """Return the Frontend API host that a ``pk_test_``/``pk_live_`` key encodes."""
    for prefix in ("pk_test_", "pk_live_"):
        if key.startswith(prefix):
            encoded = key[len(prefix) :]
            break
    else:
        raise ValueError("a publishable key starts with pk_test_ or pk_live_")
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("the publishable key does not decode (base64 of '<host>$')") from None
    if not decoded.endswith("$") or len(decoded) < 2 or "/" in decoded or " " in decoded:
        raise ValueError("the publishable key does not decode to '<frontend-api-host>$'")
    return decoded[:-1]


def _is_loopback(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ClerkSettings(BaseSettings):
    """Every setting, its ``CLERK_*`` environment variable and its default.

    Only ``CLERK_SECRET_KEY`` (or ``CLERK_JWT_KEY`` for networkless session tokens) is required.
    """

    model_config = SettingsConfigDict(
        env_prefix="CLERK_", frozen=True, extra="ignore", validate_default=True
    )

    secret_key: SecretStr | None = Field(None, description="Instance secret key (sk_...).")
    machine_secret_key: SecretStr | None = Field(
        None, description="Machine secret key, used for M2M Backend API calls when set."
    )
    jwt_key: SecretStr | None = Field(
        None, description="PEM RSA public key: networkless JWT verification, no JWKS fetch."
    )
    publishable_key: str | None = Field(
        None, description="pk_test_/pk_live_ key: enables the OAuth2 scheme and resource_metadata."
    )
    api_url: str = Field("https://api.clerk.com", description="Backend API base URL.")
    api_version: str = Field("v1", description="Backend API version path segment (JWKS).")
    authorized_parties: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed `azp` origins for session tokens."
    )
    audience: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Required `aud` values (session and OAuth tokens; M2M JWTs when present).",
    )
    issuer: str | None = Field(
        None, description="When set, a session token's `iss` must equal it exactly."
    )
    clock_skew: float = Field(5.0, ge=0, le=300, description="Seconds of clock skew allowed.")
    jwks_cache_ttl: float = Field(300.0, gt=0, description="Seconds a fetched JWKS stays fresh.")
    jwks_max_stale: float = Field(
        3600.0, ge=0, description="Seconds stale keys keep serving while Clerk is unreachable."
    )
    jwks_refetch_cooldown: float = Field(
        10.0, ge=0, description="Minimum seconds between unknown-kid JWKS refetches."
    )
    http_timeout: float = Field(5.0, gt=0, description="Whole-call deadline for Clerk requests.")
    http_connect_timeout: float = Field(2.0, gt=0, description="TCP connect timeout.")
    startup_timeout: float = Field(2.0, gt=0, description="Deadline for the JWKS warm-up.")
    session_cookie: bool = Field(False, description="Also read session tokens from `__session`.")
    treat_pending_as_signed_out: bool = Field(True, description="`sts: pending` is signed out.")
    session_cache_size: int = Field(10_000, ge=0, description="Verified-JWT result cache entries.")
    machine_token_cache_ttl: float = Field(
        0.0, ge=0, description="Seconds to cache valid opaque-token results (0: off)."
    )
    negative_cache_ttl: float = Field(
        10.0, ge=0, description="Seconds to remember opaque tokens Clerk says do not exist."
    )
    machine_cache_size: int = Field(10_000, ge=0, description="Opaque-token cache entries.")
    cache_url: str | None = Field(
        None, description="redis://... to share verification caches across workers and hosts."
    )
    cache_timeout: float = Field(
        0.25, gt=0, le=5, description="Deadline (s) for one shared-cache operation."
    )
    coalesce_window: float = Field(
        1.0, gt=0, le=10, description="Seconds a fleet-wide coalesced opaque result is shared."
    )
    bapi_rate_limit: int = Field(
        0, ge=0, description="Backend API verify calls allowed per window, fleet-wide (0: off)."
    )
    bapi_rate_window: float = Field(10.0, gt=0, description="The rate-limit window (seconds).")
    max_token_length: int = Field(16_384, ge=512, description="Longer bearer values are refused.")
    retry_after_default: int = Field(2, ge=1, description="Retry-After seconds on 503.")

    @field_validator("authorized_parties", "audience", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("sk_"):
            raise ValueError(
                "CLERK_SECRET_KEY must start with sk_ (copy it from the Clerk dashboard, API keys)"
            )
        return value

    @field_validator("machine_secret_key")
    @classmethod
    def _check_machine_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("jwt_key")
    @classmethod
    def _check_pem(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            load_rsa_public_pem(value.get_secret_value())
        return value

    @field_validator("publishable_key")
    @classmethod
    def _check_publishable(cls, value: str | None) -> str | None:
        if value:
            decode_publishable_key(value)
            return value
        return None

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("CLERK_API_URL must be an http(s) URL such as https://api.clerk.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _warn_plain_http(self) -> ClerkSettings:
        parts = urlsplit(self.api_url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            logger.warning("CLERK_API_URL uses plain http on a non-loopback host: %s", self.api_url)
        return self

    @cached_property
    def frontend_api(self) -> str | None:
        """The Frontend API host decoded from the publishable key, if one is set."""
        return decode_publishable_key(self.publishable_key) if self.publishable_key else None

    @cached_property
    def jwt_public_key(self) -> RSAPublicKey | None:
        return load_rsa_public_pem(self.jwt_key.get_secret_value()) if self.jwt_key else None

    def secret(self) -> str | None:
        return self.secret_key.get_secret_value() if self.secret_key else None

    def machine_secret(self) -> str | None:
        """The key for M2M Backend API calls: the machine secret key, else the secret key."""
        if self.machine_secret_key is not None:
            return self.machine_secret_key.get_secret_value()
        return self.secret()
