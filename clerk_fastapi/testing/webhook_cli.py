"""``python -m clerk_fastapi.testing mint webhook TYPE``: a signed Clerk webhook, as a ``curl``.

The delivery is signed with ``--secret`` (default ``$CLERK_WEBHOOK_SIGNING_SECRET``, else a new
secret that is printed to stderr as an ``export`` line) and verifies for 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

from clerk_fastapi.testing.fake.webhooks import (
    DEFAULT_PATH,
    event_payload,
    new_signing_secret,
    signed_delivery,
)
from clerk_fastapi.webhooks.errors import WebhookVerificationError
from clerk_fastapi.webhooks.events import EVENT_TYPES
from clerk_fastapi.webhooks.verify import ENV_SECRET, check_signing_secret

PROG = "python -m clerk_fastapi.testing mint webhook"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print a curl command that delivers one signed Clerk webhook event.",
        epilog=f"Known types: {', '.join(EVENT_TYPES)} (any other type is sent with empty data).",
    )
    parser.add_argument("type", metavar="TYPE", help="the event type, e.g. user.created")
    parser.add_argument(
        "--url",
        default=f"http://127.0.0.1:8000{DEFAULT_PATH}",
        help=f"where to POST it (default http://127.0.0.1:8000{DEFAULT_PATH})",
    )
    parser.add_argument(
        "--secret", help=f"the endpoint's Signing Secret (default: ${ENV_SECRET}, else a new one)"
    )
    parser.add_argument(
        "--data", metavar="JSON", help='fields that replace the defaults, e.g. \'{"id": "user_1"}\''
    )
    parser.add_argument("--id", dest="msg_id", help="the svix-id (default: a new one)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    secret = args.secret or os.environ.get(ENV_SECRET) or ""
    if not secret:
        secret = new_signing_secret()
        print(f"export {ENV_SECRET}={secret}  # the app must use this secret", file=sys.stderr)
    try:
        check_signing_secret(secret)
    except WebhookVerificationError as exc:
        print(f"{PROG}: error: {exc.message}", file=sys.stderr)
        return 2
    try:
        data = json.loads(args.data) if args.data else None
    except ValueError:
        data = None
    if args.data and not isinstance(data, dict):
        print(f"{PROG}: error: --data must be a JSON object", file=sys.stderr)
        return 2
    now = time.time()
    payload = event_payload(args.type, data, instance_id="ins_fake_cli", now=now)
    delivery = signed_delivery(
        json.dumps(payload, separators=(",", ":")),
        signing_secret=secret,
        msg_id=args.msg_id,
        timestamp=int(now),
    )
    parts = ["curl", "-sS", "-X", "POST", args.url]
    for name, value in delivery.headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-raw", delivery.body.decode()]
    print(" ".join(shlex.quote(part) for part in parts))
    print("# valid for 5 minutes (svix-timestamp tolerance)", file=sys.stderr)
    return 0
