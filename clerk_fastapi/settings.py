"""``ClerkSettings``: one frozen settings object, read from ``CLERK_*`` environment variables."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import re
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

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


def mask_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``: how a URL may be printed."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _unquote(value: Any) -> Any:
    """What an env file gives: surrounding whitespace and one pair of matching quotes. Keys
    never contain either, so trimming them cannot change a real key."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


# Clerk's secret keys: sk_test_/sk_live_ and a long alphanumeric body (_ and - tolerated).
# Anything else is a typo or a placeholder (the docs' ``sk_live_...``); say which without
# echoing any of it.
_SECRET_KEY = re.compile(r"sk_(?:test|live)_[A-Za-z0-9_-]{20,}")


def _secret_key_problem(key: str) -> str | None:
    if _SECRET_KEY.fullmatch(key):
        return None
    if not key.startswith("sk_"):
        return "must start with sk_test_ or sk_live_ (copy it from the Clerk dashboard, API keys)"
    if not key.startswith(("sk_test_", "sk_live_")):
        return "must start with sk_test_ or sk_live_"
    if "." in key or "<" in key or ">" in key:
        return "looks like a placeholder (it contains '.', '<' or '>'): paste the real key"
    if any(char.isspace() for char in key):
        return "contains whitespace inside the key"
    body = key[len("sk_test_") :]
    if re.fullmatch(r"[A-Za-z0-9_-]*", body) is None:
        return "may hold only letters, digits, '_' and '-' after sk_test_/sk_live_"
    return "is too short to be a real key (copy the whole key from the Clerk dashboard)"


def _origin_problem(entry: str) -> str | None:
    """Why ``entry`` cannot equal a session token's ``azp`` (an origin), or ``None``."""
    try:
        parts = urlsplit(entry)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "needs a scheme, like https://app.example.com"
    if parts.path or parts.query or parts.fragment or entry.endswith(("/", "?", "#")):
        return "must be an origin with no path and no trailing '/', like https://app.example.com"
    if parts.username is not None or parts.password is not None:
        return "must not contain user:password@"
    return None


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


# The Redis URL schemes the shared cache connects with (redis-py's ``from_url``).
CACHE_URL_SCHEMES = ("redis", "rediss", "unix")

_URL_FIELDS = frozenset({"api_url", "cache_url", "http_proxy"})


class ClerkSettings(BaseSettings):
    """Every setting, its ``CLERK_*`` environment variable and its default.

    Only ``CLERK_SECRET_KEY`` (or ``CLERK_JWT_KEY`` for networkless session tokens) is required.
    """

    # hide_input_in_errors: a validation error never prints what was given (a secret key one
    # character off would otherwise be in the log, almost whole).
    model_config = SettingsConfigDict(
        env_prefix="CLERK_",
        frozen=True,
        extra="ignore",
        validate_default=True,
        hide_input_in_errors=True,
    )

    secret_key: SecretStr | None = Field(None, description="Instance secret key (sk_...).")
    machine_secret_key: SecretStr | None = Field(
        None, description="Machine secret key, used for M2M Backend API calls when set."
    )
    machine_id: str | None = Field(
        None,
        description="This service's own machine (mch_...): M2MAuth.scoped_to_receiver compares it "
        "with a caller's token scopes.",
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
    session_cache_size: int = Field(10_000, ge=0, description="Verified-result cache entries.")
    result_cache_max_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Bytes the verified-result cache may hold."
    )
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
    cache_secret: SecretStr | None = Field(
        None,
        description=(
            "Secret that seals the shared cache when there is no secret key "
            "(required with `CLERK_CACHE_URL` and only `CLERK_JWT_KEY`)."
        ),
    )
    cache_timeout: float = Field(
        0.25, gt=0, le=5, description="Deadline (s) for one shared-cache operation."
    )
    telemetry: bool = Field(
        False,
        description=(
            "Emit OpenTelemetry metrics and spans (needs the otel extra: "
            "pip install 'clerk-fastapi[otel]')."
        ),
    )
    cache_cluster: bool = Field(
        False, description="`CLERK_CACHE_URL` is a node of a Redis (or Valkey) Cluster."
    )
    coalesce_window: float = Field(
        1.0, gt=0, le=10, description="Seconds a fleet-wide coalesced opaque result is shared."
    )
    bapi_rate_limit: int = Field(
        0, ge=0, description="Backend API verify calls allowed per window, fleet-wide (0: off)."
    )
    bapi_rate_window: float = Field(10.0, gt=0, description="The rate-limit window (seconds).")
    rate_reserve: float = Field(
        0.2, ge=0, lt=1, description="Share of the rate limit kept for recently verified tokens."
    )
    client_token_budget: int = Field(
        0, ge=0, description="Never-seen opaque tokens one client may have verified per window."
    )
    client_budget_window: float = Field(
        10.0, gt=0, description="The per-client budget's window (seconds)."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses/networks whose X-Forwarded-For names the client.",
    )
    http_proxy: str | None = Field(
        None, description="http(s):// proxy for every call to Clerk (the environment is ignored)."
    )
    max_token_length: int = Field(16_384, ge=512, description="Longer bearer values are refused.")
    retry_after_default: int = Field(2, ge=1, description="Retry-After seconds on 503.")

    @field_validator("authorized_parties", "audience", "trusted_proxies", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator(
        "secret_key", "machine_secret_key", "jwt_key", "publishable_key", mode="before"
    )
    @classmethod
    def _trim_keys(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            return SecretStr(_unquote(value.get_secret_value()))
        return _unquote(value)

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problem = _secret_key_problem(value.get_secret_value())
            if problem is not None:
                raise ValueError(f"CLERK_SECRET_KEY {problem}")
        return value

    @field_validator("authorized_parties")
    @classmethod
    def _check_parties(cls, value: list[str]) -> list[str]:
        for entry in value:
            problem = _origin_problem(entry)
            if problem is not None:
                # An origin is no secret: naming it is what makes the message actionable.
                raise ValueError(f"CLERK_AUTHORIZED_PARTIES entry {entry!r} {problem}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"CLERK_TRUSTED_PROXIES entry {entry!r} is not an IP address or network "
                    "(such as 10.0.0.0/8 or 127.0.0.1)"
                ) from None
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str | None) -> str | None:
        if value is not None and value.endswith("/"):
            raise ValueError(
                f"CLERK_ISSUER {value!r} ends with '/': Clerk's iss never does (it is compared "
                "exactly), e.g. https://clerk.example.com"
            )
        return value

    @field_validator("http_proxy")
    @classmethod
    def _check_proxy(cls, value: str | None) -> str | None:
        if not value:
            return None
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
            raise ValueError("CLERK_HTTP_PROXY must be an http(s):// URL such as http://proxy:3128")
        return value

    @field_validator("machine_secret_key")
    @classmethod
    def _check_machine_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("cache_secret")
    @classmethod
    def _check_cache_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 32:
            raise ValueError("CLERK_CACHE_SECRET must be at least 32 random characters")
        return value

    @field_validator("machine_id")
    @classmethod
    def _check_machine_id(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith("mch_"):
            raise ValueError("CLERK_MACHINE_ID must start with mch_ (the machine's id)")
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
        # A copy-paste of Clerk's endpoint URLs: every call would go to /v1/v1/... and fail
        # (JWKS 503s, M2M tokens "not found"). Refused rather than corrected: a proxy path that
        # really ends in /v1 exists, and guessing would hide which one was meant.
        if re.search(r"/v\d+/?$", parts.path):
            raise ValueError(
                "CLERK_API_URL must be the base URL without the API version: remove the "
                "trailing /v1 (https://api.clerk.com, not https://api.clerk.com/v1); the version "
                "is CLERK_API_VERSION"
            )
        return value.rstrip("/")

    @field_validator("cache_url")
    @classmethod
    def _check_cache_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = urlsplit(value).scheme if "://" in value else ""
        if scheme not in CACHE_URL_SCHEMES:
            # Accepting it would start a fleet whose every Redis call fails: silently unshared.
            shown = f"scheme {scheme!r}" if scheme else "no scheme"
            raise ValueError(
                f"CLERK_CACHE_URL has {shown}, which is not supported: use "
                + ", ".join(f"{name}://" for name in CACHE_URL_SCHEMES)
                + " (for example redis://localhost:6379/0)"
            )
        return value

    @model_validator(mode="after")
    def _shared_cache_needs_a_secret(self) -> ClerkSettings:
        if self.cache_url and self.secret_key is None and self.cache_secret is None:
            raise ValueError(
                "CLERK_CACHE_URL needs a secret to seal the shared cache: set CLERK_SECRET_KEY, "
                "or CLERK_CACHE_SECRET (32+ random characters, the same on every instance)"
            )
        return self

    @model_validator(mode="after")
    def _warn_plain_http(self) -> ClerkSettings:
        parts = urlsplit(self.api_url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            logger.warning(
                "CLERK_API_URL uses plain http on a non-loopback host: %s", mask_url(self.api_url)
            )
        return self

    def __repr_args__(self) -> Any:
        # repr() and str() show URLs without their user:password@ (Redis URLs carry passwords).
        for name, value in super().__repr_args__():
            if name in _URL_FIELDS and isinstance(value, str):
                value = mask_url(value)
            yield name, value

    @cached_property
    def frontend_api(self) -> str | None:
        """The Frontend API host decoded from the publishable key, if one is set."""
        return decode_publishable_key(self.publishable_key) if self.publishable_key else None

    @cached_property
    def jwt_public_key(self) -> RSAPublicKey | None:
        return load_rsa_public_pem(self.jwt_key.get_secret_value()) if self.jwt_key else None

    def secret(self) -> str | None:
        return self.secret_key.get_secret_value() if self.secret_key else None

    def shared_cache_secret(self) -> str | None:
        """What seals the shared cache: ``cache_secret``, else the secret key; never public."""
        if self.cache_secret is not None:
            return self.cache_secret.get_secret_value()
        return self.secret()

    def machine_secret(self) -> str | None:
        """The key for M2M Backend API calls: the machine secret key, else the secret key."""
        if self.machine_secret_key is not None:
            return self.machine_secret_key.get_secret_value()
        return self.secret()
