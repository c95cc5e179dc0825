"""``python -m clerk_fastapi.testing``: a fake Clerk on a port, and tokens for it.

``serve`` runs a fake Clerk instance; ``mint`` prints a token that instance accepts: it asks the
running fake over HTTP (``--state`` or ``--url``/``--secret-key``), which is the only way to make
opaque tokens and API keys it knows, or signs a JWT locally with a key file the fake shares
(``--key-file`` on both).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from clerk_fastapi._version import __version__
from clerk_fastapi.testing.fake.control import KINDS

PROG = "python -m clerk_fastapi.testing"

EXAMPLES = f"""\
examples:
  # 1. a fake Clerk on port 8123; its settings go to fake.json
  {PROG} serve --port 8123 --state fake.json

  # 2. in another shell: tokens that fake accepts (any type)
  {PROG} mint session --state fake.json --user-id user_123 --org-id org_1 --role admin
  {PROG} mint oauth --state fake.json --format opaque --scope profile
  {PROG} mint m2m --state fake.json --machine-id mch_worker --scope mch_other
  {PROG} mint api-key --state fake.json --subject user_123 --scope notes:read

  # JWTs without asking the server: share a signing key file
  {PROG} serve --key-file fake-key.pem
  {PROG} mint session --key-file fake-key.pem
"""

SERVE_HELP = f"""\
Run a fake Clerk instance (JWKS, the verify and Backend API endpoints) on a loopback port until
Ctrl-C. It prints the CLERK_* settings that point an app at it. --state writes them to a file
only you can read; --frontend-api also serves the OAuth authorization server (it consents at
once) to requests for the served Host.

example:
  {PROG} serve --port 8123 --state fake.json
"""

MINT_HELP = f"""\
Print a token of KIND on stdout.

With --state (or --url and --secret-key) the running fake mints it, so every kind works,
including opaque OAuth and M2M tokens and API keys, and revoking or verifying it goes through
that fake. With --key-file, session, OAuth and M2M JWTs are signed locally with the key the fake
was started with. With neither, a new key signs the JWT and its PEM public key (CLERK_JWT_KEY) is
printed on stderr.

examples:
  {PROG} mint session --state fake.json --org-id org_1 --role admin --permission org:reports:read
  {PROG} mint api-key --state fake.json --scope notes:read --name ci
  {PROG} mint m2m --key-file fake-key.pem --machine-id mch_worker

`{PROG} mint webhook TYPE` prints a curl that delivers a signed Clerk webhook
(mint webhook --help).
"""


class CLIError(Exception):
    """A mistake the user can fix; printed without a traceback (exit status 2)."""


def key_id(pem: str) -> str:
    """The ``kid`` a key file signs under: derived from the key, so both commands agree."""
    from clerk_fastapi.testing.keys import SigningKey

    public = SigningKey.from_pem("k", pem).public_pem().encode()
    return "ins_" + hashlib.sha256(public).hexdigest()[:27]


def load_key(path: str | None, *, create: bool) -> Any:
    """The ``SigningKey`` in ``path`` (PEM, PKCS#8); ``serve`` creates the file if missing."""
    from cryptography.hazmat.primitives import serialization

    from clerk_fastapi.testing.keys import SigningKey

    if path is None:
        return None
    file = Path(path)
    if not file.exists():
        if not create:
            raise CLIError(f"{path}: no such key file (start `serve --key-file {path}` first)")
        key = SigningKey.generate("new")
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
    pem = file.read_text()
    try:
        return SigningKey.from_pem(key_id(pem), pem)
    except (ValueError, TypeError, AssertionError) as exc:
        raise CLIError(f"{path}: not an unencrypted RSA private key in PEM form") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A fake Clerk instance for manual testing, and tokens it accepts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"clerk-fastapi {__version__}",
        help="print the version of clerk-fastapi and exit",
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{serve,mint}",
        help="`serve` runs a fake Clerk, `mint` prints a token it accepts; COMMAND --help for more",
    )

    serve = sub.add_parser(
        "serve",
        help="run a fake Clerk on 127.0.0.1",
        description=SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: a free port)"
    )
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="write the CLERK_* settings as JSON to FILE once listening (what `mint --state` "
        "reads); removed on exit",
    )
    serve.add_argument(
        "--frontend-api",
        action="store_true",
        help="also serve the instance's Frontend API (OAuth authorization server: "
        "/oauth/authorize consents at once) on the same port, answering only requests whose "
        "Host is the served address; off by default",
    )
    serve.add_argument(
        "--key-file",
        metavar="FILE",
        help="sign with the RSA key in FILE (PEM), creating it if missing; `mint --key-file` "
        "then signs JWTs this fake accepts without contacting it",
    )

    mint = sub.add_parser(
        "mint",
        help="print a token a fake Clerk accepts",
        description=MINT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mint.add_argument(
        "kind",
        metavar="KIND",
        choices=[kind.replace("_", "-") for kind in KINDS],  # the fake's own table
        help="session, oauth, m2m or api-key: a session token, OAuth access token, M2M token or "
        "API key",
    )
    source = mint.add_argument_group("which fake (default: a new key, JWTs only)")
    source.add_argument(
        "--state", metavar="FILE", help="the file `serve --state` wrote: mint on that fake"
    )
    source.add_argument("--url", help="the running fake's URL (CLERK_API_URL printed by serve)")
    source.add_argument(
        "--secret-key",
        metavar="KEY",
        help="the running fake's CLERK_SECRET_KEY (with --url; default: $CLERK_SECRET_KEY)",
    )
    source.add_argument(
        "--key-file", metavar="FILE", help="sign JWTs locally with the key `serve --key-file` uses"
    )
    shape = mint.add_argument_group("the token")
    shape.add_argument(
        "--format",
        choices=["jwt", "opaque"],
        help="oauth and m2m: a JWT (default, unlike fake.m2m_token()) or an opaque oat_/mt_ "
        "token (needs a running fake)",
    )
    shape.add_argument("--user-id", help="session and oauth: the user (sub); default user_123")
    shape.add_argument("--org-id", help="session: the active organization")
    shape.add_argument("--role", help="session: the org role, e.g. admin")
    shape.add_argument(
        "--permission",
        action="append",
        default=[],
        metavar="NAME",
        help="session: an org permission org:<feature>:<perm>; repeat for more",
    )
    shape.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="NAME",
        help="session: a feature (u:x or o:x); repeat for more",
    )
    shape.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="NAME",
        help="session: a plan (u:x or o:x); repeat for more",
    )
    shape.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="NAME",
        help="oauth, m2m and api-key: a scope; repeat for more",
    )
    shape.add_argument("--machine-id", help="m2m: the calling machine (mch_...)")
    shape.add_argument("--client-id", help="oauth: the OAuth application's client id")
    shape.add_argument("--subject", help="api-key: the owner (user_... or org_...)")
    shape.add_argument("--name", help="api-key: the key's name (default cli)")
    shape.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help='an extra claim, the value as JSON or plain text (e.g. tier="gold"); repeat',
    )
    shape.add_argument(
        "--expires-in", type=int, default=3600, metavar="SECONDS", help="lifetime (default 3600)"
    )
    return parser


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
        try:
            state = json.loads(Path(args.state).read_text())
            return state["CLERK_API_URL"], state["CLERK_SECRET_KEY"]
        except (OSError, ValueError, KeyError) as exc:
            raise CLIError(f"{args.state}: not a state file written by `serve --state`") from exc
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


def _mint(args: argparse.Namespace) -> int:
    from clerk_fastapi.testing.fake import FakeClerk
    from clerk_fastapi.testing.fake.control import MintError, mint, needs_running_fake

    spec = _spec(args)
    remote = _remote(args)
    if remote is not None:
        if args.key_file:
            raise CLIError("pass either a running fake (--state/--url) or --key-file, not both")
        print(_mint_remote(*remote, spec))
        return 0
    if needs_running_fake(spec):
        raise CLIError(
            "opaque tokens and API keys exist only in the fake that verifies them: start "
            f"`{PROG} serve --state FILE` and pass --state FILE"
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


def write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only (0600: it holds the fake's secret and machine
    keys), whole or not at all (``mint --state`` never reads half a file), through a temporary
    file with an unpredictable name in the same directory (nobody can plant it beforehand)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600, O_EXCL
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops `serve` as cleanly as Ctrl-C


def _serve(args: argparse.Namespace) -> int:
    from clerk_fastapi.testing.fake import FakeClerk

    fake = FakeClerk(signing_key=load_key(args.key_file, create=True), key_pool_index=None)
    signal.signal(signal.SIGTERM, _stop)
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(
                fake.serve(host=args.host, port=args.port, frontend_api=args.frontend_api)
            )
        except ImportError as exc:
            raise CLIError("serve needs uvicorn: pip install uvicorn") from exc
        except OSError as exc:
            raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
        settings = {
            "CLERK_API_URL": url,
            "CLERK_SECRET_KEY": fake.secret_key,
            "CLERK_PUBLISHABLE_KEY": fake.publishable_key,
            "CLERK_MACHINE_SECRET_KEY": fake.machine_secret_key,
        }
        print(f"fake Clerk on {url}")
        for name, value in settings.items():
            print(f"export {name}={value}")
        if args.state:
            state = Path(args.state)
            stack.callback(state.unlink, missing_ok=True)
            write_private(state, json.dumps(settings))
            print(f"# tokens for it: {PROG} mint session --state {args.state}")
        else:
            print(
                f"# tokens for it: {PROG} mint session --url {url} --secret-key {fake.secret_key}"
            )
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["mint", "webhook"]:  # a signed webhook delivery, as a curl (issue 29)
        from clerk_fastapi.testing.webhook_cli import main as mint_webhook

        return mint_webhook(argv[2:])
    args = build_parser().parse_args(argv)
    try:
        return _serve(args) if args.command == "serve" else _mint(args)
    except CLIError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
