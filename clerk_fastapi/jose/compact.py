"""Strict parsing of a compact JWS (RFC 7515 section 7.1) without trusting anything in it.

Exactly two dots; canonical unpadded base64url in every segment; header and payload are UTF-8
JSON objects with no duplicate members and no NaN/Infinity, at most ``MAX_JSON_DEPTH`` levels
deep and ``MAX_JSON_BYTES`` long. Anything else is ``token-invalid``.

Three shapes Clerk decodes are parsed here too, so that they fail later with Clerk's reason and
are still refused: an empty signature (refused at ``alg`` or the signature), a payload that is
JSON but not an object (no claims: refused at ``sub`` after the signature) and ``=`` padding on
the header or payload (the signature covers the padded text; ``canonical`` is False and the
token is refused even if the signature verified).
"""

from __future__ import annotations

import base64
import binascii
import json
import json.scanner
import re
from collections.abc import Mapping
from typing import Any, NamedTuple, cast

from clerk_fastapi.errors import Reason, TokenVerificationError

# A JSON escape for a UTF-16 surrogate: only then can a lone surrogate hide in the text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Explicit limits, checked before the decoder runs. Python's json module recurses once per
# level; before 3.13 a deep document raised RecursionError, 3.13 parses it (any depth the C
# stack allows), so the depth limit cannot be left to the interpreter. Clerk's claims nest
# three levels at most (``o``, ``fea``...); 32 leaves room for custom session claims.
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 64 * 1024
# What nesting depends on: brackets, and the quotes and backslashes that hide them in strings.
_STRUCTURE = re.compile(r'["\\\[\]{}]')


def _invalid(message: str = "The token is not a valid JWT.") -> TokenVerificationError:
    return TokenVerificationError(Reason.TOKEN_INVALID, message)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {char: index for index, char in enumerate(_ALPHABET)}
_ALPHABET_BYTES = _ALPHABET.encode("ascii")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# Unused low bits of the last character, by segment length mod 4 (2 chars: 4 bits, 3: 2 bits).
_UNUSED_BITS_MASK = {0: 0, 2: 0b1111, 3: 0b11}
_PADDING = {0: b"", 2: b"==", 3: b"="}


def b64url_decode(segment: str) -> bytes:
    """Decode canonical, unpadded base64url; refuse padding, other alphabets and loose bits."""
    remainder = len(segment) % 4
    if remainder == 1 or not segment.isascii():
        raise _invalid()
    raw = segment.encode("ascii")
    # Deleting every alphabet byte must leave nothing (one C call, not a regex).
    if raw.translate(None, _ALPHABET_BYTES):
        raise _invalid()
    # Non-zero unused low bits in the last character decode to the same bytes: refuse them.
    if remainder and _VALUE[segment[-1]] & _UNUSED_BITS_MASK[remainder]:
        raise _invalid()
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[remainder])
    except (binascii.Error, ValueError):
        raise _invalid() from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
# The decoder's own scanner (C), the one ``_DECODER.decode`` calls after skipping whitespace.
_SCAN = json.scanner.make_scanner(cast(Any, _DECODER))  # typeshed types the argument oddly


def _decode(text: str) -> Any:
    """``_DECODER.decode``, without its Python-level whitespace handling when the text is one
    value from end to end (as every token Clerk signs is); anything else takes the full path,
    which accepts surrounding whitespace and refuses the rest exactly as before."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (strings skipped). On
    text that is not JSON it may over-count, never under-count: the decoder refuses it anyway."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the usual claim set: two counts, no scan
    depth = 0
    in_string = False
    escaped_at = -1  # the position a backslash inside a string makes literal
    # Linear: one step per structural character (a regex over strings could backtrack).
    for match in _STRUCTURE.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object, strictly: UTF-8, no duplicate members, no NaN/Infinity, no lone surrogate,
    at most ``MAX_JSON_BYTES`` long and ``MAX_JSON_DEPTH`` levels deep."""
    if len(raw) > MAX_JSON_BYTES:
        raise _invalid()
    try:
        text = raw.decode("utf-8")
        if too_deep(text):
            raise _invalid()
        value = _decode(text)
        if _SURROGATE_ESCAPE.search(text):
            # A lone surrogate would crash any later UTF-8 encoding (a 500 in the response).
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError, UnicodeError, TypeError):
        raise _invalid() from None
    if not isinstance(value, dict):
        raise _invalid()
    return value


class CompactJWS(NamedTuple):
    """A parsed but NOT verified compact JWS (a named tuple: immutable, and built on every new
    token for less than half a frozen dataclass's cost)."""

    # Read-only: tokens with the same header segment may share one parsed header.
    header: Mapping[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    canonical: bool = True
    # The payload's JSON text, as sent (a verified session result is cached as these bytes).
    payload_raw: bytes = b""


def _padded_segment(segment: str) -> tuple[bytes, bool]:
    """A header or payload segment; tolerate trailing ``=`` (noted as not canonical), as Clerk's
    loose base64url decoder does."""
    stripped = segment.rstrip("=")
    if stripped != segment:
        return b64url_decode(stripped), False
    return b64url_decode(segment), True


def _json_non_object(raw: bytes) -> bool:
    """Valid JSON that is not an object (an array, a string, a number ...), within the same
    size and depth limits as any other JSON here."""
    if len(raw) > MAX_JSON_BYTES:
        return False
    try:
        text = raw.decode("utf-8")
        if too_deep(text):
            return False
        value = _DECODER.decode(text)
    except (ValueError, RecursionError, UnicodeError, TypeError):
        return False
    return not isinstance(value, dict)


class HeaderMemo:
    """Parsed headers by their segment text. One signing key's tokens share a handful of
    headers, so each is decoded once. A pure function's results (the same text always parses
    to the same header, and text that fails is never kept), so it cannot change a decision;
    bounded, and emptied when full."""

    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[Mapping[str, Any], bool]] = {}

    def parse(self, segment: str) -> tuple[Mapping[str, Any], bool]:
        parsed = self._parsed.get(segment)
        if parsed is None:
            raw, canonical = _padded_segment(segment)
            parsed = (parse_json_object(raw), canonical)
            if len(self._parsed) >= self.MAX_ENTRIES:
                self._parsed.clear()
            self._parsed[segment] = parsed
        return parsed

    def clear(self) -> None:
        self._parsed.clear()


def _parse_header(segment: str) -> tuple[Mapping[str, Any], bool]:
    raw, canonical = _padded_segment(segment)
    return parse_json_object(raw), canonical


def parse_compact(
    token: str, *, payload_json: bool = True, headers: HeaderMemo | None = None
) -> CompactJWS:
    """Parse a compact JWS; ``payload_json=False`` checks the payload's encoding only (a JWS
    whose payload is not a claim set, for signature-layer tests). ``headers`` reuses headers
    parsed before."""
    parts = token.split(".")
    if len(parts) != 3:
        raise _invalid()
    header_seg, payload_seg, signature_seg = parts
    if not header_seg or (payload_json and not payload_seg):
        raise _invalid()
    header, header_canonical = (
        _parse_header(header_seg) if headers is None else headers.parse(header_seg)
    )
    raw_payload, payload_canonical = _padded_segment(payload_seg)
    payload: dict[str, Any] = {}
    if payload_json:
        try:
            payload = parse_json_object(raw_payload)
        except TokenVerificationError:
            if not _json_non_object(raw_payload):
                raise
    signature = b64url_decode(signature_seg)
    # Every character before the signature is base64url or a dot (checked above).
    signing_input = token[: len(token) - len(signature_seg) - 1].encode("ascii")
    return CompactJWS(
        header,
        payload,
        signing_input,
        signature,
        header_canonical and payload_canonical,
        raw_payload,
    )
