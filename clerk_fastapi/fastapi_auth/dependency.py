"""``Auth``: the dependency a route declares, and ``get_clerk``, how it finds its ``Clerk``."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Depends, Security
from fastapi.security import SecurityScopes
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from clerk_fastapi.auth.accepts import Accepts, normalize_accepts
from clerk_fastapi.auth.requirements import Requirements
from clerk_fastapi.clerk import Clerk
from clerk_fastapi.fastapi_auth.errors import error_for_state, for_connection, insufficient_scope
from clerk_fastapi.fastapi_auth.openapi import install_openapi
from clerk_fastapi.fastapi_auth.schemes import ClerkTokenScheme, kind_for


async def get_clerk(request: HTTPConnection) -> Clerk:
    """The app's ``Clerk``: the one ``clerk.install(app)`` (or the running ``Clerk.lifespan``)
    registered, else the one whose ``lifespan`` the app was built with, else one built from
    ``CLERK_*`` environment variables (kept on the app). Override it in tests with
    ``app.dependency_overrides[get_clerk]``."""
    state = request.app.state
    clerk = getattr(state, "clerk", None)
    if clerk is None:
        # FastAPI(lifespan=clerk.lifespan) names its Clerk even when the lifespan did not run
        # (httpx's ASGITransport, a TestClient outside `with`).
        lifespan = getattr(getattr(request.app, "router", None), "lifespan_context", None)
        owner = getattr(lifespan, "__self__", None)
        clerk = owner if isinstance(owner, Clerk) else Clerk()
        state.clerk = clerk
        install_openapi(request.app)
    if not isinstance(clerk, Clerk):
        raise TypeError("app.state.clerk is not a clerk_fastapi.Clerk")
    return clerk


class Auth:
    """Authenticate a request; use it inside ``Depends()`` or ``Security()``.

    ``accepts``: ``"session_token"`` (default), ``"oauth_token"``, ``"m2m_token"`` (alias
    ``"machine_token"``), ``"api_key"``, a token type you registered, a list of them, or
    ``"any"``.
    ``scopes``: required of OAuth, API-key and M2M tokens (sessions are not scoped).
    ``permissions``/``features`` (all required), ``roles``/``plans`` (any one) and
    ``reverification``: checked on sessions with ``has()``; machine tokens fail them.
    ``machines``: with ``accepts="m2m_token"``, only M2M tokens of these calling machines
    (``mch_...``) pass; others get 403 ``insufficient_scope``.
    ``optional``: return ``None`` when no credentials were sent (bad ones still give 401).
    """

    def __init__(
        self,
        accepts: str | Sequence[str] = "session_token",
        *,
        scopes: str | Iterable[str] = (),
        permissions: str | Iterable[str] = (),
        roles: str | Iterable[str] = (),
        features: str | Iterable[str] = (),
        plans: str | Iterable[str] = (),
        reverification: str | Mapping[str, Any] | None = None,
        machines: str | Iterable[str] = (),
        optional: bool = False,
        clerk: Clerk | None = None,
        scheme_names: Mapping[str, str] | None = None,
    ) -> None:
        self.accepts: Accepts = normalize_accepts(accepts)
        self.requirements = Requirements.build(
            scopes=scopes,
            permissions=permissions,
            roles=roles,
            features=features,
            plans=plans,
            reverification=reverification,
            machines=machines,
        )
        if self.requirements.machines and self.accepts.ordered() != ("m2m_token",):
            raise ValueError('machines= restricts M2M callers: use it with accepts="m2m_token"')
        if not isinstance(optional, bool):
            raise TypeError("optional must be True or False")
        self.optional = optional
        if clerk is not None and not isinstance(clerk, Clerk):
            raise TypeError("clerk must be a clerk_fastapi.Clerk")
        self.clerk = clerk
        unknown = set(scheme_names or {}) - set(self.accepts.ordered())
        if unknown:
            raise ValueError(f"scheme_names has unknown token types: {sorted(unknown)}")
        self.scheme_names = dict(scheme_names or {})
        self.schemes = tuple(
            ClerkTokenScheme(t, self.scheme_name(t)) for t in self.accepts.ordered()
        )
        self.__signature__ = self._signature()

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.requirements.scopes

    def scheme_name(self, token_type: str) -> str:
        return self.scheme_names.get(token_type) or kind_for(token_type).scheme_name

    def _signature(self) -> inspect.Signature:
        kind = inspect.Parameter.KEYWORD_ONLY
        params = [
            inspect.Parameter("request", kind, annotation=HTTPConnection),
            inspect.Parameter("security_scopes", kind, annotation=SecurityScopes),
        ]
        if self.clerk is None:
            params.append(
                inspect.Parameter("clerk", kind, annotation=Clerk, default=Depends(get_clerk))
            )
        # The schemes are sub-dependencies so that FastAPI lists each as an alternative; the
        # constructor's scopes are documented on the types that carry scopes.
        for index, scheme in enumerate(self.schemes):
            scoped = scheme.scoped and self.scopes
            marker = Security(scheme, scopes=list(self.scopes)) if scoped else Depends(scheme)
            params.append(
                inspect.Parameter(f"_scheme_{index}", kind, annotation=Any, default=marker)
            )
        return inspect.Signature(params)

    async def __call__(
        self,
        *,
        request: HTTPConnection,
        security_scopes: SecurityScopes,
        clerk: Clerk | None = None,
        **_schemes: Any,
    ) -> Any:
        instance = self.clerk or clerk
        assert instance is not None
        state = await instance.authenticate_request(request, self.accepts)
        if state.error == "missing" and self.optional:
            return None
        principal = state.to_auth()
        if principal is None:
            fapi = instance.settings.frontend_api
            metadata = (
                f"https://{fapi}/.well-known/oauth-protected-resource"
                if fapi and self.accepts.allows("oauth_token")
                else None
            )
            raise for_connection(
                request,
                error_for_state(
                    state,
                    resource_metadata=metadata,
                    retry_after_default=instance.settings.retry_after_default,
                ),
            )
        missing = self.missing(principal, security_scopes.scopes)
        if missing:
            raise for_connection(request, insufficient_scope(missing))
        return principal

    def missing(self, principal: BaseModel, extra_scopes: Sequence[str] = ()) -> list[str]:
        """The required names this principal lacks (empty: authorised)."""
        return self.requirements.missing(principal, extra_scopes)

    def __repr__(self) -> str:
        kinds = "any" if self.accepts.any else ",".join(self.accepts.ordered())
        return f"Auth(accepts={kinds!r}, scopes={list(self.scopes)!r}, optional={self.optional})"
