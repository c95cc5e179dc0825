"""``python -m clerk_fastapi.testing serve|mint``: a fake Clerk for manual testing."""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    from clerk_fastapi.testing.fake import FakeClerk

    parser = argparse.ArgumentParser(prog="python -m clerk_fastapi.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a fake Clerk on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--state", help="write the settings (JSON) to this file")
    mint = sub.add_parser("mint", help="print a token signed by a fake Clerk key")
    mint.add_argument("kind", choices=["session", "oauth", "m2m"])
    mint.add_argument("--user-id", default="user_123")
    mint.add_argument("--org-id")
    mint.add_argument("--role")
    mint.add_argument("--permission", action="append", default=[])
    mint.add_argument("--scope", action="append", default=[])
    mint.add_argument("--machine-id")
    mint.add_argument("--expires-in", type=int, default=3600)
    args = parser.parse_args(argv)

    fake = FakeClerk(key_pool_index=None)
    if args.command == "mint":
        if args.kind == "session":
            token = fake.session_token(
                args.user_id,
                org=args.org_id,
                role=args.role,
                permissions=args.permission or None,
                expires_in=args.expires_in,
            )
        elif args.kind == "oauth":
            token = fake.oauth_token(
                "jwt", scopes=args.scope, user_id=args.user_id, expires_in=args.expires_in
            )
        else:
            token = fake.m2m_token(
                "jwt", machine_id=args.machine_id, scopes=args.scope, expires_in=args.expires_in
            )
        print(token)
        print(
            f"# verify with CLERK_JWT_KEY (PEM):\n{fake.signing_key.public_pem()}", file=sys.stderr
        )
        return 0

    with fake.serve(port=args.port) as url:
        settings = {
            "CLERK_API_URL": url,
            "CLERK_SECRET_KEY": fake.secret_key,
            "CLERK_PUBLISHABLE_KEY": fake.publishable_key,
            "CLERK_MACHINE_SECRET_KEY": fake.machine_secret_key,
        }
        if args.state:
            with open(args.state, "w") as handle:
                json.dump(settings, handle)
        print(f"fake Clerk on {url}")
        for name, value in settings.items():
            print(f"export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
