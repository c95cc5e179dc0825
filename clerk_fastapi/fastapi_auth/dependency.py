"""``Auth``: the dependency a route declares, and ``get_clerk``, how it finds its ``Clerk``."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from clerk_fastapi.auth.accepts import Accepts, normalize_accepts
from clerk_fastapi.auth.events import log_forbidden
from clerk_fastapi.auth.requirements import Requirements
from clerk_fastapi.clerk import Clerk
from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.fastapi_auth.errors import error_for_state, for_connection, insufficient_scope
from clerk_fastapi.fastapi_auth.schemes import auth_scheme, kind_for
from clerk_fastapi.kinds import M2M_TOKEN, OAUTH_TOKEN, SESSION_TOKEN

NO_CLERK = (
    "No Clerk is attached to this app, so Auth() cannot verify anything. Create one and attach "
    "it: `clerk = Clerk()` (settings from CLERK_* variables) or `Clerk(ClerkSettings(...))`, "
    "then `FastAPI(lifespan=clerk.lifespan)` or `clerk.install(app)`; or pass `Auth(clerk=...)`. "
    "(No Clerk is ever built behind your back: settings given in code are never replaced by "
    "the environment.)"
)


async def get_clerk(request: HTTPConnection) -> Clerk:
    """The app's ``Clerk``: the one ``clerk.install(app)`` (or the running ``Clerk.lifespan``)
    registered, else the one whose ``lifespan`` the app was built with. Without either it
    raises ``ConfigurationError`` naming the fix: it never builds one from the environment,
    which would silently replace a ``Clerk`` configured in code but never attached. Override it
    in tests with ``app.dependency_overrides[get_clerk]``."""
    state = request.app.state
    clerk = getattr(state, "clerk", None)
    if clerk is None:
        # FastAPI(lifespan=clerk.lifespan) names its Clerk even when the lifespan did not run
        # (httpx's ASGITransport, a TestClient outside `with`).
        lifespan = getattr(getattr(request.app, "router", None), "lifespan_context", None)
        owner = getattr(lifespan, "__self__", None)
        if not isinstance(owner, Clerk):
            raise ConfigurationError(NO_CLERK)
        clerk = owner
        state.clerk = clerk
    if not isinstance(clerk, Clerk):
        raise TypeError("app.state.clerk is not a clerk_fastapi.Clerk")
    return clerk


def _attached(request: HTTPConnection) -> Clerk | None:
    """The ``Clerk`` attached to the app, when no override of ``get_clerk`` is set (the usual
    case, answered without a coroutine)."""
    app = request.scope.get("app")
    if app is None or app.dependency_overrides:
        return None
    clerk = getattr(app.state, "clerk", None)
    return clerk if isinstance(clerk, Clerk) else None


async def _clerk_of(request: HTTPConnection) -> Clerk:
    """``get_clerk``, honouring ``app.dependency_overrides[get_clerk]``, without making it a
    sub-dependency FastAPI solves on every request."""
    overrides = getattr(request.app, "dependency_overrides", None)
    override = overrides.get(get_clerk) if overrides else None
    if override is None:
        return await get_clerk(request)
    wants_request = bool(inspect.signature(override).parameters)
    result = override(request) if wants_request else override()
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, Clerk):
        raise TypeError("the get_clerk override did not return a clerk_fastapi.Clerk")
    return result


class Auth(SecurityBase):
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
    ``resource_metadata``: the RFC 9728 metadata URL for the challenges. Unset: on routes
    accepting OAuth tokens, Clerk's Frontend API one (as Clerk's Next.js middleware does). A URL
    (yours, e.g. ``MCPResource.metadata_url``): 401 and 403 carry it, and 401s also name the
    required ``scope`` (the MCP resource-server rules). ``False``: none.
    """

    def __init__(
        self,
        accepts: str | Sequence[str] = SESSION_TOKEN,
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
        resource_metadata: str | Literal[False] | None = None,
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
        self.requirements.refuse_meaningless(self.accepts)
        if self.requirements.machines and self.accepts.ordered() != (M2M_TOKEN,):
            raise ValueError(f'machines= restricts M2M callers: use it with accepts="{M2M_TOKEN}"')
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
        if resource_metadata not in (None, False) and not (
            isinstance(resource_metadata, str)
            and resource_metadata.startswith(("https://", "http://"))
        ):
            raise ValueError("resource_metadata must be an http(s) URL, False or None")
        self.resource_metadata = resource_metadata
        # Auth is itself the security scheme FastAPI documents: one requirement per Auth and
        # no sub-dependency to solve on each request. For several types the document is
        # finished with one alternative per type (fastapi_auth/openapi.py).
        self.scheme_name, self.model = auth_scheme(self.accepts, self.scheme_names)
        self.__signature__ = self._signature()
        # Nothing to check once verified (unless a subclass overrides missing()), and
        # nothing to refuse either (unless it overrides refuse()).
        self._unconstrained = self.requirements.empty and type(self).missing is Auth.missing
        self._plain = self._unconstrained and type(self).refuse is Auth.refuse

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.requirements.scopes

    def scheme_name_for(self, token_type: str) -> str:
        return self.scheme_names.get(token_type) or kind_for(token_type).scheme_name

    def _signature(self) -> inspect.Signature:
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [
                inspect.Parameter("request", kind, annotation=HTTPConnection),
                inspect.Parameter("security_scopes", kind, annotation=SecurityScopes),
            ]
        )

    async def __call__(
        self,
        *,
        request: HTTPConnection,
        security_scopes: SecurityScopes,
    ) -> Any:
        instance = self.clerk or _attached(request) or await _clerk_of(request)
        state = await instance.authenticate_request(request, self.accepts)
        if state.error == "missing" and self.optional:
            return None
        principal = state.principal
        if principal is not None and self._plain and not security_scopes.scopes:
            return principal  # nothing to refuse or check
        refused = self.refuse(principal) if principal is not None else None
        if refused is not None:
            reason, message = refused
            principal = None
            state = dataclasses.replace(
                state,
                status="signed-out",
                auth=None,
                reason=reason,
                message=message,
                error="invalid_token",
            )
        if principal is None:
            own = isinstance(self.resource_metadata, str)
            raise for_connection(
                request,
                error_for_state(
                    state,
                    resource_metadata=self._metadata_url(instance),
                    retry_after_default=instance.settings.retry_after_default,
                    scope=self._scopes_for(security_scopes) if own else (),
                ),
            )
        if self._unconstrained and not security_scopes.scopes:
            return principal
        missing = self.missing(principal, security_scopes.scopes)
        if missing:
            log_forbidden(state, missing)
            own_url = self.resource_metadata if isinstance(self.resource_metadata, str) else None
            raise for_connection(request, insufficient_scope(missing, resource_metadata=own_url))
        return principal

    def refuse(self, principal: Any) -> tuple[str, str] | None:
        """Override to refuse a verified principal with a 401 ``invalid_token``: return
        ``(reason code, message)``. ``MCPResource.auth()`` refuses a foreign ``aud`` here."""
        return None

    def _metadata_url(self, instance: Clerk) -> str | None:
        if self.resource_metadata is not None:
            return self.resource_metadata or None
        fapi = instance.settings.frontend_api
        if fapi and self.accepts.allows(OAUTH_TOKEN):
            return f"https://{fapi}/.well-known/oauth-protected-resource"
        return None

    def _scopes_for(self, security_scopes: SecurityScopes) -> list[str]:
        return list(dict.fromkeys([*self.scopes, *security_scopes.scopes]))

    def missing(self, principal: BaseModel, extra_scopes: Sequence[str] = ()) -> list[str]:
        """The required names this principal lacks (empty: authorised)."""
        return self.requirements.missing(principal, extra_scopes)

    def __repr__(self) -> str:
        kinds = "any" if self.accepts.any else ",".join(self.accepts.ordered())
        return f"Auth(accepts={kinds!r}, scopes={list(self.scopes)!r}, optional={self.optional})"
