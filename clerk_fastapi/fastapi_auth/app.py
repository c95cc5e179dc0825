"""``FastAPIClerk``, exported as ``clerk_fastapi.Clerk``: the framework-agnostic composition root
(``clerk_fastapi.clerk.Clerk``) plus what attaching it to an app means in FastAPI. Named apart
so that the package has one class called ``Clerk``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from clerk_fastapi import clerk as core
from clerk_fastapi.fastapi_auth.declarations import check_route_declarations
from clerk_fastapi.fastapi_auth.dependency import get_clerk
from clerk_fastapi.fastapi_auth.docs_ui import serve_docs_offline
from clerk_fastapi.fastapi_auth.openapi import enable_swagger_pkce, install_openapi
from clerk_fastapi.fastapi_auth.routes import app_auths


def replaced_in(app: Any) -> bool:
    """Whether a test replaced what this ``Clerk`` does for the app (FastAPI's
    ``dependency_overrides``): ``get_clerk`` is overridden (``use_fake_clerk``), or every
    ``Auth`` of its routes is (``override_auth``). Then this instance must not start."""
    overrides = getattr(app, "dependency_overrides", None) or {}
    if get_clerk in overrides:
        return True
    auths = app_auths(app)
    return bool(auths) and all(auth in overrides for auth in auths)


class FastAPIClerk(core.Clerk):
    __doc__ = core.Clerk.__doc__

    def install(self, app: Any, *, offline_docs: bool = False) -> None:
        """Make this instance the app's ``get_clerk``, finish its OpenAPI document from it, and
        check that every token type its routes accept is registered here.

        ``offline_docs=True`` serves Swagger UI and ReDoc from the ``fastapi-offline`` package
        instead of a CDN (``pip install 'clerk-fastapi[docs-ui]'``)."""
        super().install(app)
        install_openapi(app)
        enable_swagger_pkce(app, self)
        if offline_docs:
            serve_docs_offline(app)
        for auth in app_auths(app):
            self.authenticator.normalize(auth.accepts)
        check_route_declarations(app)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """``FastAPI(lifespan=clerk.lifespan)``: attaches this instance to the app, warms the
        JWKS, closes the HTTP client on shutdown. Without a key it fails start-up.

        When a test has replaced the app's ``Clerk`` (``use_fake_clerk(app)``,
        ``app.dependency_overrides[get_clerk]``, ``override_auth(app, ...)``) this instance
        stays idle: no key check, no network, and the replacement stays attached. So does
        another ``Clerk`` already attached to the app (``app.state.clerk = fake.clerk()``).

        An app with ``Auth`` routes needs a key to start; a service that only calls others
        starts with just CLERK_MACHINE_SECRET_KEY."""
        attached = getattr(getattr(app, "state", None), "clerk", None)
        if replaced_in(app) or (isinstance(attached, core.Clerk) and attached is not self):
            yield
            return
        if app_auths(app):
            self.check()
        async with super().lifespan(app):
            yield
