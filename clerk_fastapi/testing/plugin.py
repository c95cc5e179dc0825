"""pytest plugin (entry point ``pytest11``): the ``fake_clerk`` fixture and friends.

Installing clerk-fastapi is enough; no conftest is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clerk_fastapi.fastapi_auth.app import FastAPIClerk
from clerk_fastapi.testing.clock import FrozenClock
from clerk_fastapi.testing.fake import FakeClerk
from clerk_fastapi.webhooks.verify import ENV_SECRET as WEBHOOK_SECRET_ENV


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """A clock frozen at the current time; move it with ``.advance(seconds)``."""
    return FrozenClock()


@pytest.fixture
def fake_clerk(frozen_clock: FrozenClock) -> FakeClerk:
    """A fresh in-memory Clerk instance sharing ``frozen_clock``."""
    return FakeClerk(clock=frozen_clock)


@pytest.fixture
def use_fake_clerk(
    fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FastAPIClerk]]:
    """``use_fake_clerk(app, **settings)`` makes ``app``'s ``get_clerk`` return a ``Clerk``
    wired to the fake (settings given here win over the fake's defaults).

    Call it before the app starts: the app's own ``Clerk`` (``FastAPI(lifespan=clerk.lifespan)``
    with ``clerk = Clerk()`` at module level) then stays idle inside ``with TestClient(app)``,
    so tests need no ``CLERK_*`` variables and no network. Works with FastAPI's ``TestClient``
    and with httpx's ``ASGITransport``; undone when the test ends. It also sets
    ``CLERK_WEBHOOK_SIGNING_SECRET`` to ``fake_clerk.webhook_signing_secret``, so ``ClerkWebhook()``
    accepts ``fake_clerk.webhook(...)`` deliveries.
    """
    from clerk_fastapi.fastapi_auth.dependency import get_clerk

    missing = object()
    attached: list[tuple[Any, Any]] = []

    def attach(app: Any, **overrides: Any) -> FastAPIClerk:
        monkeypatch.setenv(WEBHOOK_SECRET_ENV, fake_clerk.webhook_signing_secret)
        clerk = fake_clerk.clerk(**overrides)
        attached.append((app, getattr(app.state, "clerk", missing)))
        app.dependency_overrides[get_clerk] = lambda: clerk
        clerk.install(app)
        return clerk

    yield attach
    for app, previous in reversed(attached):
        app.dependency_overrides.pop(get_clerk, None)
        if previous is missing:
            del app.state.clerk
        else:
            app.state.clerk = previous


@pytest.fixture
def use_fake_webhooks(fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch) -> FakeClerk:
    """Set ``CLERK_WEBHOOK_SIGNING_SECRET`` to ``fake_clerk.webhook_signing_secret`` for this
    test (no ``Clerk`` needed) and return the fake: ``fake.deliver(app, "user.created")``."""
    monkeypatch.setenv(WEBHOOK_SECRET_ENV, fake_clerk.webhook_signing_secret)
    return fake_clerk
