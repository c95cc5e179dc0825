"""Sealed values for the shared tier.

Keys and seals come from a secret nobody outside the service knows (the secret key, else
``CLERK_CACHE_SECRET``), never from public material. The namespace also carries a fingerprint
of every setting that changes a decision (issuer, audience, authorized parties, clock skew, the
PEM key, the API URL), so two services that would decide differently never share a verdict.
Every sealed value carries its own absolute expiry and its creation time, checked on read
against the reader's clock and the reader's own policy; the MAC covers the Redis key, so a
value cannot be moved to another token's key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

VERSION = "v2"


def decision_policy(settings: ClerkSettings) -> bytes:
    """Everything in the settings that can turn one verdict into another."""
    pem = settings.jwt_key.get_secret_value() if settings.jwt_key else ""
    return json.dumps(
        [
            settings.api_url,
            settings.api_version,
            settings.issuer,
            sorted(settings.audience),
            sorted(settings.authorized_parties),
            settings.clock_skew,
            hashlib.sha256(pem.encode()).hexdigest() if pem else None,
        ]
    ).encode()


class Sealer:
    def __init__(self, secret: str, policy: bytes) -> None:
        root = hmac.new(
            secret.encode(), b"clerk_fastapi shared cache " + VERSION.encode(), "sha256"
        )
        base = root.digest()
        namespace = hmac.new(base, b"namespace|" + policy, hashlib.sha256).hexdigest()[:24]
        self.prefix = f"clerk_fastapi:{VERSION}:{namespace}:"
        self._mac_key = hmac.new(base, b"mac|" + policy, hashlib.sha256).digest()

    def key(self, kind: str, digest: bytes) -> str:
        # The digest is the hash tag: one token's keys share a Redis Cluster slot, so the
        # scripts and pipelines that touch several of them stay on one shard.
        return f"{self.prefix}{kind}:{{{digest.hex()}}}"

    def _mac(self, key: str, raw: bytes) -> bytes:
        return (
            hmac.new(self._mac_key, key.encode() + b"|" + raw, hashlib.sha256).hexdigest().encode()
        )

    def seal(self, key: str, body: dict[str, Any], *, created: float, expires: float) -> bytes:
        raw = json.dumps({**body, "c": created, "x": expires}, separators=(",", ":")).encode()
        return self._mac(key, raw) + b"." + raw

    def open(self, key: str, value: Any, now: float) -> dict[str, Any] | None:
        """The body, if the MAC holds and its own expiry has not passed (reader's clock)."""
        if not isinstance(value, bytes):
            return None
        mac, _, raw = value.partition(b".")
        if not hmac.compare_digest(mac, self._mac(key, raw)):
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        created, expires = body.get("c"), body.get("x")
        if not _is_time(created) or not _is_time(expires) or expires <= now:
            return None
        return body


def _is_time(value: Any) -> TypeGuard[float]:
    return type(value) in (int, float)


class VerifiedCodec:
    """A ``Verified`` as JSON and back, with the principal models of the registered kinds."""

    def __init__(self, models: Callable[[], Mapping[str, type[BaseModel]]]) -> None:
        self._models = models

    def encode(self, verified: Verified) -> dict[str, Any] | None:
        token_type = getattr(verified.principal, "token_type", None)
        model = self._models().get(token_type) if isinstance(token_type, str) else None
        if model is None or type(verified.principal) is not model:
            return None  # a type the registry cannot rebuild is not shared
        return {
            "k": "ok",
            "t": token_type,
            "p": verified.principal.model_dump(mode="json"),
            "u": verified.cache_until,
            "o": verified.opaque,
            "i": verified.kid,
        }

    def decode(self, body: dict[str, Any]) -> Verified | None:
        model = self._models().get(str(body.get("t")))
        until, opaque, kid = body.get("u"), body.get("o"), body.get("i")
        if (
            model is None
            or not (until is None or _is_time(until))
            or not isinstance(opaque, bool)
            or not (kid is None or isinstance(kid, str))
        ):
            return None
        try:
            principal = model.model_validate(body.get("p"))
        except ValidationError:
            return None
        return Verified(
            principal, float(until) if until is not None else None, opaque=opaque, kid=kid
        )
