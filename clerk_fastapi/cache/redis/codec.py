"""Sealed values for the shared tier.

Keys and seals come from secrets nobody outside the service knows (the secret key and
``CLERK_CACHE_SECRET``, whichever are set), never from public material. The namespace binds
everything that can change a decision or a principal (``decision_policy``): the Clerk instance
(a fingerprint of the secret key, else of the PEM key: never the cache secret alone), the
receiving machine id (``scoped_to_receiver``), a fingerprint of the machine secret key opaque
M2M verifies use, the API URL, issuer, audience, authorized parties and clock skew. Services or
instances that would decide differently never read each other's verdicts.
Every sealed value carries its own absolute expiry and its creation time, checked on read
against the reader's clock and the reader's own policy; the MAC covers the Redis key, so a
value cannot be moved to another token's key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

VERSION = "v3"  # v3: the namespace binds the instance and the receiving machine
# No shared result is ever reused for longer (kinds/_jwt.py MAX_RESULT_CACHE_SECONDS; opaque
# results are capped here too): a withdrawn kid and a forget's tombstone are kept that long.
MAX_RESULT_SECONDS = 3600.0


def epoch_value(raw: Any) -> float:
    """A time Redis holds (the trust epoch); garbage counts as none (it can only make us
    stricter)."""
    if isinstance(raw, bytes):
        with contextlib.suppress(ValueError):
            return float(raw)
    return 0.0


def forgotten_at(tombstone: bytes | None) -> float | None:
    """When a token was last forgotten, from its tombstone; a garbled one voids every result."""
    return None if tombstone is None else epoch_value(tombstone) or math.inf


def _fingerprint(secret: str | None) -> str | None:
    return hashlib.sha256(secret.encode()).hexdigest() if secret else None


def instance_identity(settings: ClerkSettings) -> bytes:
    """Which Clerk instance this is: its secret key, else its PEM key (networkless), and where
    its Backend API lives. Never the shared cache secret: instances may share that one."""
    pem = settings.jwt_key.get_secret_value() if settings.jwt_key else None
    return json.dumps(
        [_fingerprint(settings.secret()), _fingerprint(pem), settings.api_url]
    ).encode()


def decision_policy(settings: ClerkSettings) -> bytes:
    """Everything in the settings that can turn one verdict (or its principal) into another."""
    return json.dumps(
        [
            instance_identity(settings).decode(),
            settings.machine_id,
            # Opaque M2M tokens are verified with this key: Clerk answers per machine.
            _fingerprint(settings.machine_secret()),
            settings.api_version,
            settings.issuer,
            sorted(settings.audience),
            sorted(settings.authorized_parties),
            settings.clock_skew,
        ]
    ).encode()


class Sealer:
    def __init__(self, secret: str, policy: bytes, instance: bytes = b"") -> None:
        root = hmac.new(
            secret.encode(), b"clerk_fastapi shared cache " + VERSION.encode(), "sha256"
        )
        base = root.digest()
        namespace = hmac.new(base, b"namespace|" + policy, hashlib.sha256).hexdigest()[:24]
        self.prefix = f"clerk_fastapi:{VERSION}:{namespace}:"
        # What every service of one Clerk instance shares whatever its policy: the fleet-wide
        # Backend API rate counter (Clerk limits per instance, not per service).
        shared = hmac.new(base, b"instance|" + instance, hashlib.sha256).hexdigest()[:24]
        self.instance_prefix = f"clerk_fastapi:{VERSION}:i-{shared}:"
        self._mac_key = hmac.new(base, b"mac|" + policy, hashlib.sha256).digest()

    def tombstone_key(self, digest: bytes) -> str:
        """When a token was last forgotten, for every service of this instance (whatever its
        namespace): their shared results created before it are not served. Tagged like the
        token's own keys, so one read pipeline touches one slot per token."""
        return f"{self.instance_prefix}t:{{{digest.hex()}}}"

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
