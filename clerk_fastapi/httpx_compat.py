"""``httpx`` and ``httpx2`` side by side, at the edges users plug into their own clients.

The package's own Backend API client is ``httpx`` (docs/performance.md says why). What users hand
to *their* clients must work with both generations, whose classes are distinct: an ``httpx2``
client refuses an ``httpx.Auth`` (``TypeError: Invalid "auth" argument``) and cannot use an
``httpx`` transport. So the bases here derive from both libraries' classes when ``httpx2`` is
installed (from ``httpx``'s alone otherwise); the code built on them only uses what the two have
in common (``request.headers``, ``request.aread()``, ``response.status_code``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx


def httpx2_module() -> ModuleType | None:
    """``httpx2`` when it is installed, else ``None``."""
    try:
        return importlib.import_module("httpx2")
    except ImportError:
        return None


def _bases(name: str) -> tuple[type, ...]:
    second = httpx2_module()
    first: type = getattr(httpx, name)
    return (first, getattr(second, name)) if second is not None else (first,)


if TYPE_CHECKING:
    AuthBase = httpx.Auth
    AsyncTransportBase = httpx.AsyncBaseTransport
else:
    AuthBase = type("AuthBase", _bases("Auth"), {"__module__": __name__})
    AsyncTransportBase = type(
        "AsyncTransportBase", _bases("AsyncBaseTransport"), {"__module__": __name__}
    )


class ASGITransport(AsyncTransportBase):
    """An in-process transport to an ASGI app for an ``httpx`` or an ``httpx2`` client: each
    request goes through the ``ASGITransport`` of the library that made it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._by_library: dict[str, Any] = {}

    def _transport_for(self, request: Any) -> Any:
        if isinstance(request, httpx.Request):
            library: ModuleType | None = httpx
        else:
            library = httpx2_module()
            if library is None or not isinstance(request, library.Request):
                raise TypeError(f"not an httpx or httpx2 request: {type(request).__name__}")
        assert library is not None
        transport = self._by_library.get(library.__name__)
        if transport is None:
            transport = self._by_library[library.__name__] = library.ASGITransport(app=self.app)
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self._transport_for(request).handle_async_request(request)
        return response

    async def aclose(self) -> None:
        for transport in self._by_library.values():
            await transport.aclose()
