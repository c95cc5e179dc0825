"""``verify_webhook``: the decisions Clerk's ``verifyWebhook`` (3.25.0, ``standardwebhooks``
1.1.1) makes, each observed in Clerk's own function (``make parity`` re-checks all of them
against it), and what a sender cannot do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clerk_fastapi.webhooks import (
    UserEvent,
    WebhookErrorCode,
    WebhookVerificationError,
    sign,
    verify_webhook,
)
from clerk_fastapi.webhooks.signing import stablelib_base64_decode

NOW = 1_795_000_000
KEY = b"twenty-four bytes secret"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = json.dumps({"type": "user.created", "object": "event", "data": {"id": "user_1"}})


def svix(body: str = BODY, *, msg_id: str = "msg_1", ts: int = NOW, key: bytes = KEY) -> str:
    """The signature computed independently of the package (Svix's documented scheme)."""
    mac = hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(**values: str) -> dict[str, str]:
    base = {"svix-id": "msg_1", "svix-timestamp": str(NOW), "svix-signature": svix()}
    base.update({k.replace("_", "-"): v for k, v in values.items()})
    return {k: v for k, v in base.items() if v != "<absent>"}


def code(hdrs: object, body: bytes | str = BODY, secret: object = SECRET, now: float = NOW) -> str:
    try:
        verify_webhook(hdrs, body, signing_secret=secret, now=now)  # type: ignore[arg-type]
    except WebhookVerificationError as exc:
        return exc.code
    return "ok"


def test_the_package_signs_as_svix_documents() -> None:
    assert sign(SECRET, "msg_1", NOW, BODY) == svix()
    event = verify_webhook(headers(), BODY.encode(), signing_secret=SECRET, now=NOW)
    assert isinstance(event, UserEvent) and event.data.id == "user_1"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-301, "timestamp_too_new"),
        (-300, "ok"),
        (0, "ok"),
        (300, "ok"),
        (301, "timestamp_too_old"),
    ],
)
def test_tolerance_is_300_seconds_both_ways_inclusive(offset: int, expected: str) -> None:
    assert code(headers(), now=NOW + offset) == expected
    assert code(headers(), now=NOW + offset + 0.999) == (
        expected if offset != 300 else "ok"  # Clerk floors the clock to whole seconds
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{NOW}abc", "ok"),  # parseInt reads the leading digits
        (f"+{NOW}", "ok"),
        (f"0{NOW}", "ok"),
        (f"{NOW}.9", "ok"),
        ("abc", "invalid_timestamp"),
        ("1e9", "timestamp_too_old"),
    ],
)
def test_timestamp_is_read_as_parse_int(text: str, expected: str) -> None:
    assert code(headers(svix_timestamp=text)) == expected


def test_headers() -> None:
    for name in ("svix_id", "svix_timestamp", "svix_signature"):
        assert code(headers(**{name: "<absent>"})) == "missing_headers"
        assert code(headers(**{name: " \t "})) == "missing_headers"
    webhook_names = {k.replace("svix-", "webhook-"): v for k, v in headers().items()}
    assert code(webhook_names) == "missing_headers"  # Clerk reads only the svix-* names
    assert code({k.upper(): f"  {v} " for k, v in headers().items()}) == "ok"
    # Two header lines are joined with ", " (Fetch): a valid one in either place still counts.
    bad = svix(key=b"x" * 24)
    pairs = [*headers(svix_signature="<absent>").items()]
    assert code([*pairs, ("svix-signature", bad), ("svix-signature", svix())]) == "ok"
    assert code([*pairs, ("svix-signature", svix()), ("svix-signature", bad)]) == "ok"
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook({}, BODY, signing_secret=SECRET, now=NOW)
    assert info.value.message.endswith("svix-id, svix-timestamp, svix-signature")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"v1,{'A' * 43}= {svix()}", "ok"),  # any one of several
        (f"{svix()},extra", "ok"),  # a third comma part is ignored
        (svix().replace("v1,", "v2,"), "invalid_signature"),
        (svix().replace("v1,", "V1,"), "invalid_signature"),
        (svix().replace("v1,", "v1a,"), "invalid_signature"),
        (svix().removeprefix("v1,"), "invalid_signature"),  # unlabelled
        (svix().rstrip("="), "invalid_signature"),  # compared as text: padding matters
        (f"v1,{'A' * 43}=\t{svix()}", "invalid_signature"),  # only single spaces split
    ],
)
def test_signature_list(value: str, expected: str) -> None:
    assert code(headers(svix_signature=value)) == expected


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (SECRET.removeprefix("whsec_"), "ok"),  # without whsec_
        (SECRET + "\n", "ok"),  # a last lone character is never read (length 4n+1)
        ("WHSEC_" + SECRET[6:], "invalid_signing_secret"),
        ("whsec_" + SECRET, "invalid_signing_secret"),
        (SECRET[:12] + "\r\n" + SECRET[12:], "invalid_signing_secret"),
        ("whsec_abc", "invalid_signing_secret"),  # under four characters: "incorrect padding"
        ("whsec_", "invalid_signing_secret"),  # "Secret can't be empty."
        ("", "missing_signing_secret"),
    ],
)
def test_secret_formats(secret: str, expected: str) -> None:
    assert code(headers(), secret=secret) == expected


def test_stablelib_decoder_quirks() -> None:
    assert stablelib_base64_decode("YWJj") == b"abc"
    # Outputs as @stablelib/base64 1.0.1 gives them (run in Node).
    assert stablelib_base64_decode("YWJjZA") == b"abcd"  # unpadded
    assert stablelib_base64_decode("YWI=") == b"ab"
    assert stablelib_base64_decode("YWJjZ") == b"abc"  # the lone fifth character is unread
    for bad in ("YWI", "YW-j", "YW_j", "YWJj=YWJj", "YW", "YWJj==="):
        with pytest.raises(ValueError):
            stablelib_base64_decode(bad)


def test_the_secret_comes_from_the_environment_on_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLERK_WEBHOOK_SIGNING_SECRET", raising=False)
    assert code(headers(), secret=None) == "missing_signing_secret"
    monkeypatch.setenv("CLERK_WEBHOOK_SIGNING_SECRET", SECRET)
    assert code(headers(), secret=None) == "ok"
    assert code(headers(), secret="") == "missing_signing_secret"  # explicit "" is no fallback


def test_the_body_is_verified_before_it_is_parsed() -> None:
    # A body that is not JSON and not signed: the signature decides, the parser never runs.
    assert code(headers(), body=b"{not json") == "invalid_signature"
    signed = headers(svix_signature=svix("{not json"))
    assert code(signed, body=b"{not json") == "malformed_body"
    for body in ("", "null", "NaN", "[]", "{}", "123", '{"type": 1}', '{"type":"user.created"}'):
        assert code(headers(svix_signature=svix(body)), body=body) == "malformed_body", body


def test_body_is_decoded_as_clerk_decodes_it() -> None:
    # request.text(): a leading BOM is dropped; invalid UTF-8 becomes U+FFFD.
    assert code(headers(), body=b"\xef\xbb\xbf" + BODY.encode()) == "ok"
    raw = b'{"type":"x.y","data":{"s":"\xff"}}'
    text = raw.decode("utf-8", "replace")
    event = verify_webhook(headers(svix_signature=svix(text)), raw, signing_secret=SECRET, now=NOW)
    assert event.data == {"s": "\ufffd"}


def test_only_clerks_fields_are_kept_and_object_is_event() -> None:
    body = json.dumps(
        {"type": "x.y", "object": "nope", "data": {}, "delivery_id": "forged", "extra": 1}
    )
    event = verify_webhook(headers(svix_signature=svix(body)), body, signing_secret=SECRET, now=NOW)
    assert event.object == "event"
    assert event.delivery_id == "msg_1"  # from svix-id, never from the body
    assert "extra" not in event.model_dump()


def test_errors_never_hold_the_secret_or_signature() -> None:
    for hdrs, secret in (
        (headers(), "whsec_" + base64.b64encode(b"wrong secret 123456789012").decode()),
        (headers(svix_signature="v1,c2lnbmF0dXJlLXRleHQ="), SECRET),
        (headers(), "whsec_!!!!" + SECRET[6:]),
    ):
        with pytest.raises(WebhookVerificationError) as info:
            verify_webhook(hdrs, BODY, signing_secret=secret, now=NOW)
        text = str(info.value) + repr(info.value)
        assert secret[6:] not in text and hdrs["svix-signature"][3:] not in text


def test_a_timestamp_of_thousands_of_digits_is_refused_cleanly() -> None:
    # int() refuses more than 4,300 digits; JS reads a huge number (or Infinity): too new/old.
    assert code(headers(svix_timestamp="9" * 5000)) == "timestamp_too_new"
    assert code(headers(svix_timestamp="-" + "9" * 5000)) == "timestamp_too_old"
    # Leading zeros do not count: parseInt("000...0001795000000") is the timestamp.
    padded = "0" * 5000 + str(NOW)
    assert code(headers(svix_timestamp=padded)) == "ok"


_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    id_=_TEXT,
    ts=st.one_of(_TEXT, st.integers(-(10**30), 10**30).map(str)),
    sig=_TEXT,
    body=st.binary(max_size=200),
    secret=st.one_of(st.just(SECRET), _TEXT.map(lambda t: "whsec_" + t), _TEXT),
)
def test_any_input_is_an_event_or_a_webhook_error(
    id_: str, ts: str, sig: str, body: bytes, secret: str
) -> None:
    pairs = [("svix-id", id_), ("svix-timestamp", ts), ("svix-signature", sig)]
    assert code(pairs, body=body, secret=secret) in {
        "ok",
        *(c.value for c in WebhookErrorCode),
    }
    # With a correct signature over whatever came, the body alone decides.
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    signed = [("svix-id", "msg_1"), ("svix-timestamp", str(NOW)), ("svix-signature", svix(text))]
    assert code(signed, body=body) in {"ok", "malformed_body"}
