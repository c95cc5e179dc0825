"""``verify_webhook``: a Clerk (Svix) delivery in, a typed event out, or one
``WebhookVerificationError`` with a stable code.

The checks are Clerk's ``verifyWebhook`` (``@clerk/backend/webhooks`` 3.25.0) in Clerk's order:
secret, headers, secret format, timestamp (300 s either way), signature, and only then the body
is parsed. Where we are stricter than Clerk (a verified body that is not a JSON object with a
string ``type``, or whose ``data`` does not fit the event's model) the answer is
``malformed_body``; Clerk accepts those with ``undefined`` fields (docs/parity.md).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from clerk_fastapi.webhooks.errors import WebhookErrorCode, WebhookVerificationError
from clerk_fastapi.webhooks.events import EVENT_ADAPTER, WebhookEvent
from clerk_fastapi.webhooks.signing import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADERS,
    check_timestamp,
    decode_body,
    decode_signing_secret,
    header_values,
    parse_timestamp,
    signature,
    signature_matches,
)

ENV_SECRET = "CLERK_WEBHOOK_SIGNING_SECRET"
# The fields Clerk copies from the payload (``object`` is always "event"; the rest is dropped).
_EVENT_FIELDS = ("type", "data", "event_attributes", "timestamp", "instance_id")

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
SigningSecret = str | Sequence[str]


def signing_secrets(signing_secret: SigningSecret | None = None) -> tuple[str, ...]:
    """The secrets to try: ``signing_secret`` (one, or several while rotating), else
    ``CLERK_WEBHOOK_SIGNING_SECRET`` read now (Clerk reads it on every call). An explicit empty
    value does not fall back to the environment, as in Clerk (``??``)."""
    if signing_secret is None:
        secrets: tuple[str, ...] = (os.environ.get(ENV_SECRET, ""),)
    elif isinstance(signing_secret, str):
        secrets = (signing_secret,)
    else:
        secrets = tuple(signing_secret)
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        raise WebhookVerificationError(
            WebhookErrorCode.MISSING_SIGNING_SECRET,
            f"no webhook signing secret: set {ENV_SECRET} to the endpoint's Signing Secret "
            "(Clerk dashboard, Webhooks), or pass signing_secret=",
        )
    return secrets


def check_signing_secret(signing_secret: SigningSecret) -> None:
    """Raise ``WebhookVerificationError(invalid_signing_secret)`` now if any secret given in
    code can never verify anything (``ClerkWebhook`` calls it at declaration)."""
    for secret in signing_secrets(signing_secret):
        decode_signing_secret(secret)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # JSON.parse knows no NaN or Infinity


def _parse(text: str) -> Any:
    if text == "":
        raise ValueError("empty")
    return json.loads(text, parse_constant=_reject_constant)


def verify_webhook(
    headers: Headers,
    body: bytes | str,
    *,
    signing_secret: SigningSecret | None = None,
    now: float | None = None,
) -> WebhookEvent:
    """Verify one delivery exactly as Clerk's ``verifyWebhook`` does and return its event.

    ``headers``: the request's headers (a mapping or ``(name, value)`` pairs; repeated names are
    joined as Fetch does). ``body``: the raw body. ``signing_secret``: ``whsec_...`` (or several,
    any of which may match), default ``CLERK_WEBHOOK_SIGNING_SECRET``. ``now``: Unix seconds
    (default: the clock). Raises ``WebhookVerificationError``; its message never holds the
    secret, a signature or the body.
    """
    secrets = signing_secrets(signing_secret)
    values = header_values(headers)
    missing = [name for name in HEADERS if name not in values]
    if missing:
        raise WebhookVerificationError(
            WebhookErrorCode.MISSING_HEADERS,
            f"missing required webhook headers: {', '.join(missing)}",
        )
    text = decode_body(body)
    keys = [decode_signing_secret(secret) for secret in secrets]
    msg_id = values[HEADER_ID]
    timestamp = parse_timestamp(values[HEADER_TIMESTAMP])
    current = math.floor(time.time() if now is None else now)
    check_timestamp(timestamp, current)
    # Every secret is tried (rotation), so the time taken does not say which one matched.
    matched = False
    for key in keys:
        if signature_matches(values[HEADER_SIGNATURE], signature(key, msg_id, timestamp, text)):
            matched = True
    if not matched:
        raise WebhookVerificationError(
            WebhookErrorCode.INVALID_SIGNATURE,
            "no v1 signature in svix-signature matches the body under the signing secret",
        )
    try:
        payload = _parse(text)
    except ValueError:
        raise WebhookVerificationError(
            WebhookErrorCode.MALFORMED_BODY, "the verified body is empty or not JSON"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookVerificationError(
            WebhookErrorCode.MALFORMED_BODY,
            "the verified body is not a webhook event (a JSON object with a string type)",
        )
    event = {name: payload[name] for name in _EVENT_FIELDS if name in payload}
    event.update(object="event", delivery_id=msg_id, delivery_timestamp=timestamp)
    try:
        return EVENT_ADAPTER.validate_python(event)
    except ValidationError as exc:
        # Field names only: the values are the sender's data.
        where = sorted({".".join(str(p) for p in err["loc"][1:3]) for err in exc.errors()})
        raise WebhookVerificationError(
            WebhookErrorCode.MALFORMED_BODY,
            f"the verified {payload['type'][:64]!r} event does not have Clerk's shape "
            f"(fields: {', '.join(where[:5])})",
        ) from None
