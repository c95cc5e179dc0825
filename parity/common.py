"""What every part of the auth parity run shares: the frozen instant, the names the cases use, the
fault scenarios both sides meet, and the encoding helpers (Clerk's own key and cookie schemes)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOW = 1_795_000_000  # seconds; every case is frozen here (2026-11-18T09:46:40Z)
APP_ORIGIN = "https://app.test"
URL = f"{APP_ORIGIN}/api/resource"
AUDIENCE = "https://api.parity.test"
OTHER_ISSUER = "https://clerk.other-instance.test"

CAT_SESSION = "cl_B7d4PD111AAA"
CAT_TEMPLATE = "cl_B7d4PD222AAA"
CAT_M2M = "cl_B7d4PD333AAA"
CAT_IGNORE = "cl_I7d4PD111III"
CAT_UNKNOWN = "cl_Z9z9ZZ999ZZZ"


# Fault scenarios: each runs its own FakeClerk (same pooled signing key and kid, so the same JWKS)
# with a permanent fault, so both sides meet the same failure in one run.
FAULT_SCENARIOS: dict[str, tuple[str, ...]] = {
    "jwks_500": ("jwks",),
    "jwks_malformed": ("jwks",),
    "jwks_empty": ("jwks",),
    "bapi_500": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_429": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_400": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_401": ("m2m_verify", "api_key_verify", "oauth_verify"),
    "bapi_malformed": ("m2m_verify", "api_key_verify", "oauth_verify"),
}


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def live_publishable_key(frontend_api: str) -> str:
    return "pk_live_" + base64.b64encode(f"{frontend_api}$".encode()).decode().rstrip("=")


def cookie_suffix(publishable_key: str) -> str:
    digest = hashlib.sha1(publishable_key.encode()).digest()  # noqa: S324 (Clerk's own scheme)
    return base64.b64encode(digest).decode().replace("+", "-").replace("/", "_")[:8]
