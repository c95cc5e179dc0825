"""pytest plugin (entry point ``pytest11``): the ``fake_clerk`` fixture and friends.

Installing clerk-fastapi is enough; no conftest is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clerk_fastapi.fastapi_auth.app import Clerk
from clerk_fastapi.testing.clock import FrozenClock
from clerk_fastapi.testing.fake import FakeClerk


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """A clock frozen at the current time; move it with ``.advance(seconds)``."""
    return FrozenClock()


@pytest.fixture
def fake_clerk(frozen_clock: FrozenClock) -> FakeClerk:
    """A fresh in-memory Clerk instance sharing ``frozen_clock``."""
    return FakeClerk(clock=frozen_clock)


@pytest.fixture
def use_fake_clerk(fake_clerk: FakeClerk) -> Iterator[Callable[..., Clerk]]:
    """``use_fake_clerk(app)`` makes ``app``'s ``get_clerk`` return a ``Clerk`` wired to the fake.

    Works with FastAPI's ``TestClient`` and with httpx's ``ASGITransport``.
    """
    from clerk_fastapi.fastapi_auth.dependency import get_clerk

    attached: list[Any] = []

    def attach(app: Any, **overrides: Any) -> Clerk:
        clerk = fake_clerk.clerk(**overrides)
        app.dependency_overrides[get_clerk] = lambda: clerk
        clerk.install(app)
        attached.append(app)
        return clerk

    yield attach
    for app in attached:
        app.dependency_overrides.pop(get_clerk, None)
