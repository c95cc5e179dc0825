"""The command line's parser and help texts, and the error a user can fix."""

from __future__ import annotations

import argparse

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
that fake. M2M tokens are opaque unless --format jwt, as fake.m2m_token() makes them. With
--key-file, session, OAuth and M2M JWTs are signed locally with the key the fake
was started with. With neither, a new key signs the JWT and its PEM public key (CLERK_JWT_KEY) is
printed on stderr.

examples:
  {PROG} mint session --state fake.json --org-id org_1 --role admin --permission org:reports:read
  {PROG} mint api-key --state fake.json --scope notes:read --name ci
  {PROG} mint m2m --key-file fake-key.pem --format jwt --machine-id mch_worker

`{PROG} mint webhook TYPE` prints a curl that delivers a signed Clerk webhook
(mint webhook --help).
"""


class CLIError(Exception):
    """A mistake the user can fix; printed without a traceback (exit status 2)."""


def cli_name(kind: str) -> str:
    """``api_key`` is ``api-key`` on the command line."""
    return kind.replace("_", "-")


def format_help() -> str:
    """``--format``: the kinds that have a choice, each with its default (the fake's)."""
    choices = [
        f"{cli_name(name)} {kind.formats[0]} (default) or {'/'.join(kind.formats[1:])}"
        for name, kind in KINDS.items()
        if len(kind.formats) > 1
    ]
    return (
        "; ".join(choices) + ". The defaults are the fake's own (fake.oauth_token(), "
        "fake.m2m_token()); an opaque oat_/mt_ token needs a running fake"
    )


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
        choices=[cli_name(kind) for kind in KINDS],  # the fake's own table
        help="; ".join(f"{cli_name(name)}: {kind.what}" for name, kind in KINDS.items()),
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
        help=format_help(),
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
