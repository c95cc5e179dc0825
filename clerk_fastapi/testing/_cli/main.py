"""Dispatch: ``serve``, ``mint KIND`` and ``mint webhook TYPE``."""

from __future__ import annotations

import sys

from clerk_fastapi.testing._cli.args import PROG, CLIError, build_parser
from clerk_fastapi.testing._cli.mint import run_mint
from clerk_fastapi.testing._cli.serve import run_serve


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["mint", "webhook"]:  # a signed webhook delivery, as a curl (issue 29)
        from clerk_fastapi.testing.webhook_cli import main as mint_webhook

        return mint_webhook(argv[2:])
    args = build_parser().parse_args(argv)
    try:
        return run_serve(args) if args.command == "serve" else run_mint(args)
    except CLIError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
