"""Count the package's calls and modules on one request's path (a runtime trace).

    python scripts/request_path.py [-v]

Runs a session token through ``Depends(Auth())`` (cold: a new token; cached: a token in
steady use) and through ``Clerk.authenticate_request``, against the in-process fake Clerk, and
prints for each: the package's function calls, the modules they are in, and how often the path
returns to a module it had already left. ``-v`` lists the calls.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from clerk_fastapi import Auth  # noqa: E402
from clerk_fastapi.testing import FakeClerk  # noqa: E402

PACKAGE = os.path.join(ROOT, "clerk_fastapi") + os.sep
KIT = os.path.join(PACKAGE, "testing") + os.sep


def trace(
    loop: asyncio.AbstractEventLoop, run: Callable[[], Awaitable[Any]]
) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        name = frame.f_code.co_filename
        if event == "call" and name.startswith(PACKAGE) and not name.startswith(KIT):
            code = frame.f_code  # co_qualname: Python 3.11+
            calls.append((name[len(PACKAGE) :], getattr(code, "co_qualname", code.co_name)))

    sys.setprofile(profile)
    try:
        loop.run_until_complete(run())
    finally:
        sys.setprofile(None)
    return calls


def counts(calls: list[tuple[str, str]]) -> tuple[int, int, int]:
    """Calls, modules, and returns to a module the path had already left."""
    stays = [module for i, (module, _) in enumerate(calls) if i == 0 or calls[i - 1][0] != module]
    seen: set[str] = set()
    returns = 0
    for module in stays:
        returns += module in seen
        seen.add(module)
    return len(calls), len(seen), returns


def summary(calls: list[tuple[str, str]]) -> str:
    n, modules, returns = counts(calls)
    return f"{n} calls, {modules} modules, {returns} returns to a module already left"


class _Conn:
    def __init__(self, token: str) -> None:
        self.scope = {
            "type": "http",
            "method": "GET",
            "headers": [(b"authorization", b"Bearer " + token.encode())],
        }


def measure() -> dict[str, list[tuple[str, str]]]:
    """The traced calls of each path, by label."""
    fake = FakeClerk()
    clerk = fake.clerk()
    app = FastAPI()
    clerk.install(app)

    @app.get("/me")
    async def me(auth: Annotated[Any, Depends(Auth())]) -> dict[str, bool]:
        return {"ok": True}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    loop = asyncio.new_event_loop()

    def get(token: str) -> Callable[[], Awaitable[Any]]:
        return lambda: client.get("/me", headers={"Authorization": f"Bearer {token}"})

    loop.run_until_complete(clerk.warm_up())
    loop.run_until_complete(get(fake.session_token(user_id="user_warm"))())
    steady = fake.session_token(user_id="user_steady")
    for _ in range(3):
        loop.run_until_complete(get(steady)())
    runs = {
        "Depends(Auth()), new token": get(fake.session_token(user_id="user_cold")),
        # The token is minted before the trace: only the package's path is counted.
        "Clerk.authenticate_request, new token": lambda conn=_Conn(  # type: ignore[misc]
            fake.session_token(user_id="user_core")
        ): clerk.authenticate_request(conn),
        "Depends(Auth()), token in steady use": get(steady),
    }
    try:
        return {label: trace(loop, run) for label, run in runs.items()}
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def main() -> None:
    for label, calls in measure().items():
        print(f"{label}: {summary(calls)}")
        if "-v" in sys.argv:
            for module, function in calls:
                print(f"    {module} {function}")


if __name__ == "__main__":
    main()
