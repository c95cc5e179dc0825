"""``mint KIND``: a token from a running fake (over HTTP) or signed locally."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from clerk_fastapi.testing._cli.args import PROG, CLIError
from clerk_fastapi.testing._cli.keyfile import load_key
from clerk_fastapi.testing._cli.state import read_state


def _spec(args: argparse.Namespace) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for item in args.claim:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise CLIError(f"--claim {item!r}: use KEY=VALUE")
        try:
            claims[name] = json.loads(raw)
        except ValueError:
            claims[name] = raw
    spec: dict[str, Any] = {
        "kind": args.kind.replace("-", "_"),
        "format": args.format,
        "user_id": args.user_id,
        "org_id": args.org_id,
        "role": args.role,
        "permissions": args.permission or None,
        "features": args.feature or None,
        "plans": args.plan or None,
        "scopes": args.scope,
        "machine_id": args.machine_id,
        "client_id": args.client_id,
        "subject": args.subject,
        "name": args.name,
        "claims": claims,
        "expires_in": args.expires_in,
    }
    return {k: v for k, v in spec.items() if v is not None}


def _remote(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.state:
        return read_state(args.state)
    if args.url:
        secret = args.secret_key or os.environ.get("CLERK_SECRET_KEY")
        if not secret:
            raise CLIError("--url needs --secret-key (the fake's CLERK_SECRET_KEY)")
        return args.url.rstrip("/"), secret
    return None


def _mint_remote(url: str, secret: str, spec: dict[str, Any]) -> str:
    import httpx

    from clerk_fastapi.testing.fake.control import MINT_PATH

    try:
        response = httpx.post(
            url + MINT_PATH,
            json=spec,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        raise CLIError(f"no fake Clerk answers at {url} ({type(exc).__name__})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body.get("token"), str):
        detail = body.get("error") or f"HTTP {response.status_code}"
        raise CLIError(f"the fake at {url} refused: {detail} (is it a `serve`d fake Clerk?)")
    return str(body["token"])


def run_mint(args: argparse.Namespace) -> int:
    from clerk_fastapi.testing.fake import FakeClerk
    from clerk_fastapi.testing.fake.control import KINDS, MintError, mint, needs_running_fake

    spec = _spec(args)
    remote = _remote(args)
    if remote is not None:
        if args.key_file:
            raise CLIError("pass either a running fake (--state/--url) or --key-file, not both")
        print(_mint_remote(*remote, spec))
        return 0
    try:
        opaque = needs_running_fake(spec)
    except MintError as exc:
        raise CLIError(str(exc)) from exc
    if opaque:
        # Without --format, a kind whose default is opaque may still have a JWT form.
        jwt_too = "format" not in spec and "jwt" in KINDS[spec["kind"]].formats
        raise CLIError(
            "opaque tokens and API keys exist only in the fake that verifies them: start "
            f"`{PROG} serve --state FILE` and pass --state FILE"
            + (" (or pass --format jwt for a JWT signed here)" if jwt_too else "")
        )
    key = load_key(args.key_file, create=False)
    fake = FakeClerk(signing_key=key, key_pool_index=None)
    try:
        print(mint(fake, spec))
    except (MintError, TypeError) as exc:
        raise CLIError(str(exc)) from exc
    if key is None:
        pem = fake.signing_key.public_pem()
        print(f"# a new key signed it; verify with CLERK_JWT_KEY (PEM):\n{pem}", file=sys.stderr)
    return 0
