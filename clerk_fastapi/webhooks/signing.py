"""The Standard Webhooks decisions exactly as Clerk's ``verifyWebhook`` makes them.

``@clerk/backend`` 3.25.0 maps the Svix headers onto the ``standardwebhooks`` 1.1.1 JS library,
which decodes the secret with ``@stablelib/base64``, reads the timestamp with ``parseInt`` and
compares the base64 text of each ``v1`` signature. Each helper here is one of those functions,
ported with its quirks (they decide which deliveries verify, so they are the contract); the
comments name the JS they follow. No FastAPI here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from clerk_fastapi.webhooks.errors import WebhookErrorCode, WebhookVerificationError

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
HEADER_ID = "svix-id"
HEADER_TIMESTAMP = "svix-timestamp"
HEADER_SIGNATURE = "svix-signature"
HEADERS = (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)

# Fetch's Headers strip HTTP whitespace from each value; String.prototype.trim() then strips
# ECMAScript white space and line terminators (the ones a header value can hold are listed).
_HTTP_WHITESPACE = "\t\n\r "
_JS_WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# parseInt(text, 10): optional sign, then the longest run of ASCII digits (leading white space
# was already trimmed).
_PARSE_INT = re.compile(r"[+-]?([0-9]+)")
_BASE64_INVALID = 256
_MAX_DIGITS = 18
_HUGE = 1_000_000_000_000_000_000  # 10**18: beyond any tolerance


def header_values(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The three Svix headers as ``request.headers.get(name)?.trim()`` sees them: matched
    case-insensitively, repeated lines joined with ``", "`` (Fetch), then trimmed. Headers that
    are absent or empty after trimming are left out."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        lowered = name.lower()
        if lowered in HEADERS:
            found.setdefault(lowered, []).append(value.strip(_HTTP_WHITESPACE))
    values = {}
    for name, parts in found.items():
        value = ", ".join(parts).strip(_JS_WHITESPACE)
        if value:
            values[name] = value
    return values


def _decode_char(code: int) -> int:
    if code == 43:
        return 62
    if code == 47:
        return 63
    if 48 <= code <= 57:
        return code - 48 + 52
    if 65 <= code <= 90:
        return code - 65
    if 97 <= code <= 122:
        return code - 97 + 26
    return _BASE64_INVALID


def stablelib_base64_decode(text: str) -> bytes:
    """``@stablelib/base64`` ``decode``: standard alphabet, trailing ``=`` counted as padding
    (more than two, or fewer than four characters in all, is "incorrect padding"); the data is
    decoded in groups of four and the last group may be short; a last group of a single
    character is ignored unread (so ``whsec_…\\n`` works). Lengths are UTF-16 code units."""
    raw = text.encode("utf-16-le", "surrogatepass")
    units = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]
    if not units:
        return b""
    padding = 0
    for unit in reversed(units):
        if unit != 61:
            break
        padding += 1
    if len(units) < 4 or padding > 2:
        raise ValueError("Base64Coder: incorrect padding")
    length = len(units) - padding
    out = bytearray()
    bad = 0
    i = 0
    while i < length - 4:
        v0, v1, v2, v3 = (_decode_char(units[i + k]) for k in range(4))
        out += bytes(
            [((v0 << 2) | (v1 >> 4)) & 255, ((v1 << 4) | (v2 >> 2)) & 255, ((v2 << 6) | v3) & 255]
        )
        bad |= (v0 | v1 | v2 | v3) & _BASE64_INVALID
        i += 4
    v0 = v1 = v2 = 0
    if i < length - 1:
        v0, v1 = _decode_char(units[i]), _decode_char(units[i + 1])
        out.append(((v0 << 2) | (v1 >> 4)) & 255)
        bad |= (v0 | v1) & _BASE64_INVALID
    if i < length - 2:
        v2 = _decode_char(units[i + 2])
        out.append(((v1 << 4) | (v2 >> 2)) & 255)
        bad |= v2 & _BASE64_INVALID
    if i < length - 3:
        v3 = _decode_char(units[i + 3])
        out.append(((v2 << 6) | v3) & 255)
        bad |= v3 & _BASE64_INVALID
    if bad:
        raise ValueError("Base64Coder: incorrect characters for decoding")
    return bytes(out)


def decode_signing_secret(secret: str) -> bytes:
    """``new Webhook(secret)``: ``whsec_`` stripped when present, the rest decoded as base64;
    raises ``WebhookVerificationError(invalid_signing_secret)`` with a fixed message."""
    body = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = stablelib_base64_decode(body)
    except ValueError:
        key = None
    if not key:
        raise WebhookVerificationError(
            WebhookErrorCode.INVALID_SIGNING_SECRET,
            "the webhook signing secret is not whsec_ followed by base64 (copy it from the "
            "Clerk dashboard, Webhooks, your endpoint, Signing Secret)",
        )
    return key


def parse_timestamp(text: str) -> int:
    """``parseInt(text, 10)`` for a value ``verifyTimestamp`` can accept (``NaN`` raises)."""
    match = _PARSE_INT.match(text)
    if match is None:
        raise WebhookVerificationError(
            WebhookErrorCode.INVALID_TIMESTAMP, "the svix-timestamp header is not a number"
        )
    digits = match.group(1).lstrip("0") or "0"
    sign = -1 if match.group(0).startswith("-") else 1
    if len(digits) > _MAX_DIGITS:
        # Far outside the tolerance either way, as JS's huge (or infinite) number is; and
        # int() of thousands of digits would raise (Python's conversion limit).
        return sign * _HUGE
    return sign * int(digits)


def check_timestamp(timestamp: int, now: int) -> None:
    """Exactly 300 seconds either way still passes (``now - ts > 300``, ``ts > now + 300``)."""
    if now - timestamp > TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            WebhookErrorCode.TIMESTAMP_TOO_OLD,
            "the delivery's svix-timestamp is more than 5 minutes old",
        )
    if timestamp > now + TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            WebhookErrorCode.TIMESTAMP_TOO_NEW,
            "the delivery's svix-timestamp is more than 5 minutes in the future",
        )


def utf8(text: str) -> bytes:
    """``new TextEncoder().encode(text)``: a lone surrogate becomes U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()


def signature(key: bytes, msg_id: str, timestamp: int, body: str) -> str:
    """The base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` (UTF-8), padded, as Svix sends it
    after ``v1,``."""
    content = utf8(f"{msg_id}.{timestamp}.{body}")
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``svix-signature`` value for one secret: ``v1,<base64>``."""
    return "v1," + signature(decode_signing_secret(secret), msg_id, timestamp, body)


def signature_matches(header: str, expected: str) -> bool:
    """Any entry of the space-separated header whose first comma part is exactly ``v1`` and
    whose second part equals ``expected`` (compared in constant time, as text). Every entry is
    compared, so the time taken does not say which one matched."""
    wanted = expected.encode()
    matched = False
    for entry in header.split(" "):
        parts = entry.split(",")
        if parts[0] != "v1":
            continue
        candidate = parts[1] if len(parts) > 1 else ""
        if hmac.compare_digest(utf8(candidate), wanted):
            matched = True
    return matched


def decode_body(body: bytes | str) -> str:
    """``await request.text()``: UTF-8 with invalid bytes replaced by U+FFFD and one leading
    byte order mark dropped. A ``str`` is taken as already decoded."""
    if isinstance(body, str):
        return body
    return body.decode("utf-8", "replace").removeprefix("\ufeff")
