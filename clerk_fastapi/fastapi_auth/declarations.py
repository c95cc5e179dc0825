"""Requirements a route declares around an ``Auth`` that no accepted type can meet.

``Auth(...)`` checks its own arguments when it is declared (``Requirements.refuse_meaningless``).
Scopes given by FastAPI's ``Security(Auth(), scopes=[...])``, or by an outer ``Security`` whose
dependency depends on an ``Auth``, are known only to the route: this checks them when the
``Clerk`` is installed (``clerk.install(app)``, its lifespan).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clerk_fastapi.auth.accepts import Accepts


def _scoped(dependant: Any, inherited: tuple[str, ...] = ()) -> Iterator[tuple[Any, list[str]]]:
    own = getattr(dependant, "own_oauth_scopes", None) or []
    parent = getattr(dependant, "parent_oauth_scopes", None)
    scopes = (*(inherited if parent is None else parent), *own)
    call = getattr(dependant, "call", None)
    if isinstance(getattr(call, "accepts", None), Accepts):
        yield call, list(dict.fromkeys(scopes))
    for sub in getattr(dependant, "dependencies", ()):
        yield from _scoped(sub, scopes)


def check_route_declarations(app: Any) -> None:
    """Raise ``ValueError`` naming the route when ``Security`` scopes reach an ``Auth`` that
    cannot check them (one accepting only session tokens: sessions carry no scopes)."""
    for route in getattr(app, "routes", ()):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        for auth, scopes in _scoped(dependant):
            if not scopes:
                continue
            try:
                auth.requirements.refuse_meaningless(auth.accepts, scopes)
            except ValueError as exc:
                path = getattr(route, "path", "?")
                raise ValueError(f"route {path}: Security(..., scopes=...): {exc}") from None
