"""Find the ``Auth`` dependencies an app's routes declare (OpenAPI, start-up checks, tests).

An ``Auth`` is recognised by its normalised ``accepts``, so this module needs no import of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clerk_fastapi.auth.accepts import Accepts


def _walk(dependant: Any) -> Iterator[Any]:
    call = getattr(dependant, "call", None)
    if isinstance(getattr(call, "accepts", None), Accepts):
        yield call
    for sub in getattr(dependant, "dependencies", ()):
        yield from _walk(sub)


def route_auths(route: Any) -> list[Any]:
    """The distinct ``Auth`` instances one route depends on."""
    dependant = getattr(route, "dependant", None)
    found = {id(auth): auth for auth in _walk(dependant)} if dependant is not None else {}
    return list(found.values())


def app_auths(app: Any) -> list[Any]:
    """The distinct ``Auth`` instances of every route of ``app``."""
    found: dict[int, Any] = {}
    for route in getattr(app, "routes", ()):
        for auth in route_auths(route):
            found[id(auth)] = auth
    return list(found.values())
