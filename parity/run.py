"""Differential parity run: @clerk/backend 3.25.0 versus clerk-fastapi, case by case.

Run with the package's venv python from the repository root (``make parity``). It starts one
``FakeClerk`` on 127.0.0.1 (the Backend API and the JWKS for both sides), generates the cases,
runs them all through ``parity/runner.mjs`` (one Node process, cases on stdin) and through
``Clerk.authenticate_request`` on a Starlette request built from the same method, URL and headers,
with both clocks frozen to the case's time. It prints every difference no rule in
``parity/deviations.py`` documents, writes ``parity/results.json`` and ends with the line
``N agree, M differ (K documented)``; it exits 1 when any difference is undocumented.

Only public names are used: ``clerk_fastapi.Clerk`` / ``ClerkSettings`` and
``clerk_fastapi.testing`` (``FakeClerk``, ``FrozenClock``, ``SigningKey``).

The parts, one job each: ``common.py`` (the instant, names, fault scenarios), ``corpus.py`` (the
tokens), ``cases.py`` and ``cookie_cases.py`` (the requests), ``backends.py`` (the fakes),
``clerk_side.py`` and ``node_bridge.py`` (Clerk's answers, through Node), ``python_side.py``
(ours), ``compare.py`` and ``deviations.py`` (the verdict), ``report.py`` (what is printed and
written); this file is the command line. ``webhooks.py`` runs after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backends import Backends
from cases import Cases
from clerk_side import run_node
from common import NOW
from corpus import Corpus
from python_side import run_python
from report import hidden_pattern, report

from clerk_fastapi.testing import FakeClerk, FrozenClock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", help="only cases whose description contains this text")
    parser.add_argument(
        "--show-documented", action="store_true", help="also print the documented differences"
    )
    args = parser.parse_args()
    started = time.monotonic()

    clock = FrozenClock(NOW)
    fake = FakeClerk(clock=clock)
    with contextlib.ExitStack() as stack:
        stack.enter_context(fake.serve())
        corpus = Corpus(fake)
        builder = Cases(fake, corpus)
        backends = Backends(fake, clock, builder)
        backends.serve(stack)
        cases = builder.build()
        if args.filter:
            cases = [c for c in cases if args.filter in c["desc"]]
        node_started = time.monotonic()
        clerk_raw = run_node(cases, backends)
        node_seconds = time.monotonic() - node_started
        py_started = time.monotonic()
        ours_all = asyncio.run(run_python(cases, backends, clock))
        py_seconds = time.monotonic() - py_started

    secrets = {fake.secret_key, fake.machine_secret_key}
    secrets.update(t for t, _, _ in corpus.tokens.values())
    secrets.update(t for case in cases for t in case["tokens"])
    for other in backends.fakes.values():
        secrets.update((other.secret_key, other.machine_secret_key))
    _, differ, documented = report(
        cases,
        clerk_raw,
        ours_all,
        hidden_pattern(secrets),
        show_documented=args.show_documented,
        started=started,
        node_seconds=node_seconds,
        py_seconds=py_seconds,
    )
    import webhooks  # issue 29: the same deliveries through Clerk's verifyWebhook and ours

    webhook_status = webhooks.main() if not args.filter else 0
    return 1 if differ > documented or webhook_status else 0


if __name__ == "__main__":
    sys.exit(main())
