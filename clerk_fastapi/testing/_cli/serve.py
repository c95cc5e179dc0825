"""``serve``: a fake Clerk on a loopback port until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Any

from clerk_fastapi.testing._cli.args import PROG, CLIError
from clerk_fastapi.testing._cli.keyfile import load_key
from clerk_fastapi.testing._cli.state import write_private


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops `serve` as cleanly as Ctrl-C


def run_serve(args: argparse.Namespace) -> int:
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
