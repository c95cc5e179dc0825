"""Differential parity for webhooks: @clerk/backend 3.25.0 ``verifyWebhook`` versus
``clerk_fastapi.webhooks.verify_webhook``, delivery by delivery.

Each case (headers, raw body, secret or environment, frozen clock) goes through
``parity/webhooks.mjs`` (Clerk's own function) and through ``verify_webhook``; both must make the
same decision (accept, or refuse for the same cause) and, when they accept, return the same
event. Every delivery the fake signs (``FakeClerk.webhook``, one per event type Clerk types, and
an unknown type) is among the cases. Differences listed in ``WEBHOOK_RULES`` are documented in
docs/parity.md; any other fails the run. Run alone (``python parity/webhooks.py``) or from
``parity/run.py``.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from clerk_fastapi.testing import FakeClerk, FrozenClock
from clerk_fastapi.webhooks import EVENT_TYPES, WebhookVerificationError, sign, verify_webhook
from clerk_fastapi.webhooks.signing import decode_body

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import NOW
from node_bridge import run_script

ENV = "CLERK_WEBHOOK_SIGNING_SECRET"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes, as the dashboard's
OTHER = "whsec_" + base64.b64encode(b"another endpoint secret!").decode()

# Clerk's error message -> our code (the decision both sides must make).
CLERK_CODES = [
    ("Missing webhook signing secret", "missing_signing_secret"),
    ("Missing required webhook headers", "missing_headers"),
    ("Base64Coder", "invalid_signing_secret"),
    ("Secret can't be empty", "invalid_signing_secret"),
    ("Invalid Signature Headers", "invalid_timestamp"),
    ("Message timestamp too old", "timestamp_too_old"),
    ("Message timestamp too new", "timestamp_too_new"),
    ("No matching signature found", "invalid_signature"),
    ("Unable to verify incoming webhook", "malformed_body"),
]

# Documented differences (docs/parity.md, "Webhooks"): a verified body that is JSON but not an
# event object Clerk returns with undefined fields; we refuse it (malformed_body).
WEBHOOK_RULES = {
    "webhook-non-event-body": "a verified JSON body that is not an object with a string `type`, "
    "or whose `data` does not fit the event's Clerk shape: Clerk returns it with undefined "
    "fields, clerk-fastapi refuses it (malformed_body)",
}


def clerk_code(message: str | None) -> str:
    for prefix, code in CLERK_CODES:
        if message and prefix in message:
            return code
    return f"unknown: {message}"


class Builder:
    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []
        self.fake = FakeClerk(clock=FrozenClock(NOW))

    def add(
        self,
        desc: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        secret: str | None = SECRET,
        env: str | None = None,
        now: int = NOW,
        rule: str | None = None,
    ) -> None:
        self.cases.append(
            {
                "id": len(self.cases) + 1,
                "desc": desc,
                "headers": headers if headers is not None else [],
                "body": body if body is not None else b"",
                "secret": secret,
                "env": env,
                "now": now,
                "rule": rule,
            }
        )

    def signed(
        self,
        body: bytes,
        *,
        secret: str = SECRET,
        msg_id: str = "msg_2parityWebhookAAAAAAAAAAA",
        ts: int = NOW,
        ts_text: str | None = None,
    ) -> list[tuple[str, str]]:
        signature = sign(secret, msg_id, ts, decode_body(body))
        return [
            ("content-type", "application/json"),
            ("svix-id", msg_id),
            ("svix-timestamp", ts_text if ts_text is not None else str(ts)),
            ("svix-signature", signature),
        ]

    def build(self) -> list[dict[str, Any]]:
        fake = self.fake
        body = fake.webhook("user.created", signing_secret=SECRET).body
        good = self.signed(body)

        def replace(headers: list[tuple[str, str]], name: str, value: str | None) -> list[Any]:
            out = [(n, v) for n, v in headers if n != name]
            return out if value is None else [*out, (name, value)]

        sig = dict(good)["svix-signature"]
        self.add("valid delivery", headers=good, body=body)
        self.add("tampered body", headers=good, body=body.replace(b"Example", b"Exampl3"))
        self.add("tampered id", headers=replace(good, "svix-id", "msg_other"), body=body)
        self.add(
            "tampered timestamp", headers=replace(good, "svix-timestamp", str(NOW + 1)), body=body
        )
        self.add("wrong secret", headers=good, body=body, secret=OTHER)
        bare = SECRET.removeprefix("whsec_")
        self.add("secret without whsec_", headers=good, body=body, secret=bare)
        self.add("secret from the environment", headers=good, body=body, secret=None, env=SECRET)
        self.add("no secret anywhere", headers=good, body=body, secret=None, env=None)
        self.add("explicit empty secret, env set", headers=good, body=body, secret="", env=SECRET)
        self.add("empty environment secret", headers=good, body=body, secret=None, env="")
        for offset in (-301, -300, -299, 0, 299, 300, 301, -86400, 86400):
            self.add(
                f"clock {offset:+d}s from the timestamp", headers=good, body=body, now=NOW - offset
            )
        for name in ("svix-id", "svix-timestamp", "svix-signature"):
            self.add(f"{name} missing", headers=replace(good, name, None), body=body)
            self.add(f"{name} blank", headers=replace(good, name, "   "), body=body)
        self.add("all headers missing", headers=[], body=body)
        self.add(
            "webhook-* names only",
            body=body,
            headers=[(n.replace("svix-", "webhook-"), v) for n, v in good],
        )
        self.add("upper-case header names", body=body, headers=[(n.upper(), v) for n, v in good])
        self.add("whitespace around values", body=body, headers=[(n, f"  {v}\t") for n, v in good])
        bad = "v1," + base64.b64encode(b"x" * 32).decode()
        self.add(
            "several signatures, one valid",
            body=body,
            headers=replace(good, "svix-signature", f"{bad} v1a,zz {sig} v2,{bad}"),
        )
        self.add(
            "only unknown versions",
            body=body,
            headers=replace(
                good,
                "svix-signature",
                " ".join(sig.replace("v1,", v + ",") for v in ("v2", "V1", "v1a")),
            ),
        )
        self.add(
            "unlabelled signature",
            body=body,
            headers=replace(good, "svix-signature", sig.removeprefix("v1,")),
        )
        self.add(
            "v1 with a third part",
            body=body,
            headers=replace(good, "svix-signature", sig + ",extra"),
        )
        self.add(
            "unpadded signature",
            body=body,
            headers=replace(good, "svix-signature", sig.rstrip("=")),
        )
        urlsafe = sig.replace("+", "-").replace("/", "_")
        self.add("url-safe signature", body=body, headers=replace(good, "svix-signature", urlsafe))
        self.add(
            "two signature header lines",
            body=body,
            headers=[*replace(good, "svix-signature", bad), ("svix-signature", sig)],
        )
        self.add(
            "two signature lines, valid first", body=body, headers=[*good, ("svix-signature", bad)]
        )
        self.add(
            "signatures split by two spaces",
            body=body,
            headers=replace(good, "svix-signature", f"{bad}  {sig}"),
        )
        self.add(
            "signature with a tab separator",
            body=body,
            headers=replace(good, "svix-signature", f"{bad}\t{sig}"),
        )
        for text, ts in (
            ("1795000000abc", NOW),
            ("+1795000000", NOW),
            ("01795000000", NOW),
            ("1795000000.9", NOW),
            ("abc", NOW),
            ("-1795000000", -NOW),
            ("0x6AFD0A80", 0),
            ("1e9", 1),
            ("0" * 300 + str(NOW), NOW),
            ("9" * 400, NOW),
            ("-" + "9" * 400, NOW),
        ):
            self.add(
                f"timestamp {text!r}", body=body, headers=self.signed(body, ts=ts, ts_text=text)
            )
        # Secret formats.
        raw24 = base64.b64decode(bare)
        for desc, secret in (
            ("secret unpadded", "whsec_" + base64.b64encode(raw24[:23]).decode().rstrip("=")),
            ("secret padded", "whsec_" + base64.b64encode(raw24[:23]).decode()),
            ("secret url-safe", "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 12).decode()),
            ("secret WHSEC_ prefix", "WHSEC_" + bare),
            ("secret double prefix", "whsec_" + SECRET),
            ("secret trailing newline", SECRET + "\n"),
            ("secret trailing space", SECRET + " "),
            ("secret CRLF inside", SECRET[:10] + "\r\n" + SECRET[10:]),
            ("secret of 3 characters", "whsec_abc"),
            ("secret whsec_ only", "whsec_"),
            ("secret three = padding", "whsec_" + bare[:-1] + "==="),
            ("secret = in the middle", "whsec_" + bare[:8] + "=" + bare[9:]),
        ):
            try:
                headers = self.signed(body, secret=secret)
            except WebhookVerificationError:
                headers = good
            self.add(desc, headers=headers, body=body, secret=secret)
        self.add("secret with missing headers", headers=[], body=body, secret="whsec_!!")
        # The secret decoder (@stablelib/base64) on random near-base64 text, seeded.
        rng = random.Random(29)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" * 3
        alphabet += "=-_ \n\r."
        lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 31, 32, 33, 34, 35, 36]
        for n in range(120):
            length = rng.choice([*lengths, rng.randint(9, 60)])
            secret = ("whsec_" if n % 3 else "") + "".join(
                rng.choice(alphabet) for _ in range(length)
            )
            try:
                headers = self.signed(body, secret=secret)
            except WebhookVerificationError:
                headers = good
            self.add(f"random secret {n}", headers=headers, body=body, secret=secret)
        # Bodies.
        for desc, raw, rule in (
            ("empty body", b"", None),
            ("non-JSON body", b"not json", None),
            ("JSON with trailing garbage", b'{"type":"user.created"} x', None),
            ("NaN body", b"NaN", None),
            ("null body", b"null", None),
            ("JSON number", b"123", "webhook-non-event-body"),
            ("JSON array", b"[]", "webhook-non-event-body"),
            ("empty object", b"{}", "webhook-non-event-body"),
            ("JSON string", b'"user.created"', "webhook-non-event-body"),
            ("type is a number", b'{"type":1,"data":{}}', "webhook-non-event-body"),
            (
                "user data is a string",
                b'{"type":"user.created","data":"x"}',
                "webhook-non-event-body",
            ),
            (
                "user first_name is a number",
                b'{"type":"user.created","data":{"first_name":1}}',
                "webhook-non-event-body",
            ),
            ("no data", b'{"type":"user.created"}', "webhook-non-event-body"),
            ("BOM before the JSON", b"\xef\xbb\xbf" + body, None),
            (
                "invalid UTF-8 in a string",
                b'{"type":"x.y","data":{"a":"\xff\xfe\xc3(\xe2\x82"}}',
                None,
            ),
            (
                "extra top-level fields",
                b'{"type":"x.y","data":{},"object":"nope","extra":1,'
                b'"timestamp":5,"instance_id":null}',
                None,
            ),
            ("duplicate keys", b'{"type":"x.y","type":"user.deleted","data":{"id":"u"}}', None),
            ("escaped lone surrogate", b'{"type":"x.y","data":{"s":"\\ud800"}}', None),
            (
                "nested unknown fields",
                json.dumps(
                    {
                        "type": "user.updated",
                        "data": {
                            "id": "user_1",
                            "object": "user",
                            "brand_new": {"x": [1, 2]},
                            "email_addresses": [{"id": "e", "email_address": "a@b", "new": True}],
                        },
                    }
                ).encode(),
                None,
            ),
        ):
            self.add(desc, headers=self.signed(raw), body=raw, rule=rule)
        # Every delivery the fake makes, under Clerk's own function.
        for event_type in (*EVENT_TYPES, "brandNew.event"):
            delivery = fake.webhook(event_type, signing_secret=SECRET)
            self.add(
                f"fake delivery {event_type}",
                headers=list(delivery.headers.items()),
                body=delivery.body,
            )
        rotated = fake.webhook("user.updated", signing_secret=[OTHER, SECRET])
        self.add(
            "fake delivery signed with two secrets",
            headers=list(rotated.headers.items()),
            body=rotated.body,
        )
        return self.cases


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    payload = [
        {
            "id": c["id"],
            "now": c["now"] * 1000,
            "headers": c["headers"],
            "body": base64.b64encode(c["body"]).decode(),
            "secret": c["secret"],
            "env": c["env"],
        }
        for c in cases
    ]
    results: list[dict[str, Any]] = run_script("webhooks.mjs", payload, timeout=600)
    return results


def run_python(case: dict[str, Any]) -> dict[str, Any]:
    saved = os.environ.pop(ENV, None)
    if case["env"] is not None:
        os.environ[ENV] = case["env"]
    try:
        event = verify_webhook(
            case["headers"], case["body"], signing_secret=case["secret"], now=case["now"]
        )
    except WebhookVerificationError as exc:
        return {"ok": False, "code": exc.code, "event": None}
    finally:
        os.environ.pop(ENV, None)
        if saved is not None:
            os.environ[ENV] = saved
    dumped = event.model_dump(
        mode="json", exclude_unset=True, exclude={"delivery_id", "delivery_timestamp"}
    )
    return {"ok": True, "code": None, "event": dumped}


def main() -> int:
    cases = Builder().build()
    clerk_all = run_node(cases)
    agree = documented = 0
    failures = []
    for case, clerk in zip(cases, clerk_all, strict=True):
        ours = run_python(case)
        theirs = {
            "ok": clerk["ok"],
            "code": None if clerk["ok"] else clerk_code(clerk["error"]),
            "event": clerk["event"],
        }
        if theirs == ours:
            agree += 1
            continue
        if case["rule"] and theirs["ok"] and ours["code"] == "malformed_body":
            documented += 1
            continue
        failures.append(
            f"webhook {case['id']} {case['desc']}\n    clerk {theirs['code'] or 'ok'} "
            f"{json.dumps(theirs['event'])[:200] if theirs['ok'] else clerk['error'][:120]}\n"
            f"    ours  {ours['code'] or 'ok'} {json.dumps(ours['event'])[:200]}"
        )
    for line in failures:
        print(line)
    print(
        f"webhooks: {len(cases)} deliveries, {agree} agree with verifyWebhook, "
        f"{documented} differ as documented ({', '.join(WEBHOOK_RULES)}), "
        f"{len(failures)} differ undocumented"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
