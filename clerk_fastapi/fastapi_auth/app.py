"""The ``Clerk`` a FastAPI app uses: the framework-agnostic composition root
(``clerk_fastapi.clerk.Clerk``) plus what attaching it to an app means in FastAPI."""

from __future__ import annotations

from typing import Any

from clerk_fastapi import clerk as core
from clerk_fastapi.fastapi_auth.openapi import install_openapi
from clerk_fastapi.fastapi_auth.routes import app_auths


class Clerk(core.Clerk):
    __doc__ = core.Clerk.__doc__

    def install(self, app: Any) -> None:
        """Make this instance the app's ``get_clerk``, finish its OpenAPI document from it, and
        check that every token type its routes accept is registered here."""
        super().install(app)
        install_openapi(app)
        for auth in app_auths(app):
            self.authenticator.normalize(auth.accepts)
