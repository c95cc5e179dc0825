"""``python -m example_app`` (what ``make demo`` runs).

With no Clerk credentials at all (no ``CLERK_SECRET_KEY``, ``CLERK_JWT_KEY`` or
``CLERK_MACHINE_SECRET_KEY``) it starts a fake Clerk on a free loopback port, runs Team Notes on
127.0.0.1:8000 (``PORT=8001`` or ``--port`` for another port) against it, and prints a
ready-to-run ``curl`` line for each token type with the answer to expect. With any of them set it
runs against your real Clerk instance and never mints or prints a token.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shlex
import socket
import sys
from typing import Any

import uvicorn

from example_app.app import create_app

USER_ID = "user_demo"
ORG_ID = "org_demo"
MACHINE_ID = "mch_demoworker00000000000000000"


def _curl(method: str, url: str, token: str | None) -> str:
    parts = ["curl", "-s", "-w", r"'\n%{http_code}\n'"]
    if method != "GET":
        parts += ["-X", method]
    if token is not None:
        parts += ["-H", shlex.quote(f"Authorization: Bearer {token}")]
    return " ".join([*parts, url])


def demo_requests(fake: Any, base: str) -> list[dict[str, Any]]:
    """Mint one token per case; each case says exactly what the app answers."""
    session = fake.session_token(
        USER_ID, org=ORG_ID, role="admin", permissions=["org:reports:read"], expires_in=3600
    )
    oauth_jwt = fake.oauth_token("jwt", scopes=["profile", "email"], user_id=USER_ID)
    oauth_opaque = fake.oauth_token("opaque", scopes=["email"], user_id=USER_ID)
    m2m_opaque = fake.m2m_token("opaque", machine_id=MACHINE_ID)
    m2m_jwt = fake.m2m_token("jwt", machine_id=MACHINE_ID)
    api_key = fake.api_key(subject=USER_ID, scopes=["notes:read"], name="demo-script")
    welcome = [{"id": 1, "text": "Welcome to Team Notes", "owner": "system"}]
    cases: list[tuple[str, str, str, str | None, int, Any]] = [
        (
            "a signed-in user lists notes (session token)",
            "GET",
            "/notes",
            session,
            200,
            {"user_id": USER_ID, "notes": welcome},
        ),
        (
            "the same user reads org reports (permission org:reports:read)",
            "GET",
            "/reports",
            session,
            200,
            {"org_id": ORG_ID, "reports": ["weekly.pdf"]},
        ),
        (
            "a third-party app with the profile scope (OAuth JWT)",
            "GET",
            "/profile",
            oauth_jwt,
            200,
            {"user_id": USER_ID, "via": "oauth_token"},
        ),
        (
            "an OAuth token without the profile scope (opaque oat_)",
            "GET",
            "/profile",
            oauth_opaque,
            403,
            None,
        ),
        (
            "another service queues a job (opaque M2M token)",
            "POST",
            "/jobs/reindex",
            m2m_opaque,
            200,
            {"queued": True, "by_machine": MACHINE_ID},
        ),
        (
            "the same with a JWT M2M token (verified without a network call)",
            "POST",
            "/jobs/reindex",
            m2m_jwt,
            200,
            {"queued": True, "by_machine": MACHINE_ID},
        ),
        (
            "a user's script reads notes (API key with notes:read)",
            "GET",
            "/api/notes",
            api_key,
            200,
            {"subject": USER_ID, "notes": welcome},
        ),
        ("...but may not write (no notes:write scope)", "POST", "/api/notes", api_key, 403, None),
        (
            "a session token where only machines are accepted",
            "POST",
            "/jobs/reindex",
            session,
            401,
            None,
        ),
        ("no credentials at all", "GET", "/notes", None, 401, None),
    ]
    return [
        {
            "title": title,
            "method": method,
            "url": base + path,
            "token": token,
            "status": status,
            "body": body,
            "curl": _curl(method, base + path, token),
        }
        for title, method, path, token, status, body in cases
    ]


def _print_demo(requests: list[dict[str, Any]], base: str) -> None:
    print(f"\nTeam Notes is running on {base} against an embedded fake Clerk.")
    print(f"Swagger UI: {base}/docs   (the Authorize dialog lists the four token types)\n")
    for number, case in enumerate(requests, 1):
        expect = (
            case["status"]
            if case["body"] is None
            else f"{case['status']} {json.dumps(case['body'])}"
        )
        print(f"# {number}. {case['title']}")
        print(case["curl"])
        print(f"# expect: {expect}\n")
    print("Press Ctrl-C to stop.", flush=True)


# Any of these set (even to a bad value) means a real instance is configured.
CREDENTIALS = ("CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_MACHINE_SECRET_KEY")


def real_credentials() -> bool:
    return any(os.environ.get(name, "").strip() for name in CREDENTIALS)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _serve(app: Any, sock: socket.socket, config: dict[str, Any]) -> None:
    """Run until Ctrl-C; uvicorn shuts down gracefully, then re-raises the interrupt."""
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(uvicorn.Config(app, **config)).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        why = "is busy" if exc.errno == errno.EADDRINUSE else "needs privileges"
        print(
            f"Port {args.port} on {args.host} {why} ({exc.strerror}): choose another with "
            f"PORT, for example `PORT={args.port + 1 if args.port < 65535 else 8001} make demo`.",
            file=sys.stderr,
        )
        return 1
    base = f"http://{args.host}:{sock.getsockname()[1]}"
    config: dict[str, Any] = {"log_level": "warning", "lifespan": "on"}

    if real_credentials():
        # Never the demo with real credentials: it would mint and print live bearer tokens.
        print(f"Team Notes on {base} against your Clerk instance; Swagger UI: {base}/docs")
        _serve(create_app(), sock, config)
        return 0

    from clerk_fastapi.testing import FakeClerk

    fake = FakeClerk(key_pool_index=None)
    with fake.serve():
        app = create_app(fake.clerk(use_network=True))
        _print_demo(demo_requests(fake, base), base)
        _serve(app, sock, config)
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
