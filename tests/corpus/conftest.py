"""Fixtures of the corpus: a per-test ledger that enforces the shared checks at teardown.

Case 112 runs over the whole corpus: every test captures logs at DEBUG, and at teardown no record
may contain a credential the test sent, a JWT signature segment, a secret key or a Backend API
request body. Every response a test obtained must also have gone through an ``assert_*`` helper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from corpus_kit import CHECKED, NOW, Harness, Ledger

from clerk_fastapi.testing import FakeClerk, FrozenClock

_TEST_CLIENT_LOGGERS = ("httpx", "httpcore")


def _text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def _from_test_client(record: logging.LogRecord, ledger: Ledger) -> bool:
    # The test's own HTTP client logs the URLs it calls; that is not the package under test.
    message = record.getMessage()
    return record.name.startswith(_TEST_CLIENT_LOGGERS) and any(
        base in message for base in ledger.app_bases
    )


@pytest.fixture(autouse=True)
def ledger(caplog: pytest.LogCaptureFixture) -> Iterator[Ledger]:
    caplog.set_level(logging.DEBUG)
    book = Ledger()
    yield book
    unchecked = [r for r in book.responses if not r.extensions.get(CHECKED)]
    assert not unchecked, f"{len(unchecked)} response(s) never asserted"
    secrets = book.secrets()
    # In teardown caplog.records holds only teardown's records: take every phase.
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert records, "no log record at DEBUG: the scan would prove nothing"
    for record in records:
        if _from_test_client(record, book):
            continue
        text = _text(record)
        leaked = sum(secret in text for secret in secrets)
        if leaked:  # pytest.fail, so that the report does not print the secret itself
            pytest.fail(f"log record {record.name}:{record.levelname} holds {leaked} secret(s)")


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """The corpus's time (NOW), for the plugin's ``fake_clerk`` and the harness alike."""
    return FrozenClock(NOW)


@pytest.fixture
def make_harness(ledger: Ledger) -> Callable[..., Harness]:
    """A harness on a fresh fake (for tests that need a second instance or other settings)."""

    def make(**settings: Any) -> Harness:
        return Harness(ledger, **settings)

    return make


@pytest.fixture
def h(ledger: Ledger, fake_clerk: FakeClerk) -> Harness:
    """The harness of section 5 on the plugin's ``fake_clerk``."""
    return Harness(ledger, fake_clerk)
