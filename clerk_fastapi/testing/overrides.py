"""``override_auth``: give routes a principal without any token."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi.security import SecurityScopes
from pydantic import BaseModel

from clerk_fastapi.errors import Reason
from clerk_fastapi.fastapi_auth.dependency import Auth
from clerk_fastapi.fastapi_auth.errors import ClerkAuthError, insufficient_scope
from clerk_fastapi.fastapi_auth.routes import app_auths

_MISMATCH_CHALLENGE = (
    f'Bearer error="invalid_token", error_description="{Reason.TOKEN_TYPE_MISMATCH}"'
)


@contextlib.contextmanager
def override_auth(app: Any, principal: BaseModel | None, *, check: bool = True) -> Iterator[None]:
    """Every ``Auth`` dependency of ``app`` returns ``principal`` while the block runs.

    With ``check=True`` (default) the route's own requirements still apply: an ``Auth`` that
    does not accept the principal's ``token_type`` answers 401, a missing scope or permission
    403, exactly as with a real token. Built on ``app.dependency_overrides``.
    """
    saved = dict(app.dependency_overrides)
    for auth in app_auths(app):

        def make(auth: Auth) -> Any:
            async def fake(security_scopes: SecurityScopes) -> Any:
                if principal is None:
                    if auth.optional:
                        return None
                    raise ClerkAuthError(
                        401,
                        "missing_token",
                        "No token in header",
                        "No credentials.",
                        {"WWW-Authenticate": "Bearer"},
                    )
                token_type = str(getattr(principal, "token_type", ""))
                if check and not auth.accepts.allows(token_type):
                    raise ClerkAuthError(
                        401,
                        "invalid_token",
                        Reason.TOKEN_TYPE_MISMATCH,
                        "The token type is not accepted here.",
                        {"WWW-Authenticate": _MISMATCH_CHALLENGE},
                    )
                missing = auth.missing(principal, security_scopes.scopes) if check else []
                if missing:
                    raise insufficient_scope(missing)
                return principal

            return fake

        app.dependency_overrides[auth] = make(auth)
    try:
        yield
    finally:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(saved)
