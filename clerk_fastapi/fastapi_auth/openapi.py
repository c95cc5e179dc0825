"""Finish the generated OpenAPI document with what only the app's ``Clerk`` knows.

- ``ClerkOAuth`` becomes an OAuth2 authorization-code scheme on the instance's Frontend API when
  the publishable key is known (so Swagger UI can log in with PKCE);
- session requirements drop scopes (sessions are not scoped; FastAPI passes a route's
  ``Security(..., scopes=)`` down to every scheme);
- each ``Auth`` (one requirement in FastAPI's document) becomes one alternative per token type
  it accepts, documented from the type's ``TokenKind`` (routes that accept ``"any"`` list the
  kinds registered on the ``Clerk`` too).

The ``Clerk`` is looked up when FastAPI generates the document (``FastAPI.openapi`` is finished
here for every app), so it does not matter how it was attached (``lifespan``, ``install``,
``app.state.clerk``, ``app.dependency_overrides[get_clerk]``) nor whether a request came first.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.models import OAuth2, OAuthFlowAuthorizationCode, OAuthFlows

from clerk_fastapi.clerk import Clerk
from clerk_fastapi.fastapi_auth.dependency import get_clerk
from clerk_fastapi.fastapi_auth.error_models import AUTH_ANSWERS, add_error_schemas
from clerk_fastapi.fastapi_auth.routes import app_auths, route_auths
from clerk_fastapi.fastapi_auth.schemes import (
    COOKIE_NOTE,
    TOKEN_TYPE_EXTENSION,
    kind_for,
    scheme_document,
)
from clerk_fastapi.fastapi_auth.webhook import document_webhook_routes


def oauth2_scheme(frontend_api: str, description: str, token_type: str) -> dict[str, Any]:
    model = OAuth2(
        flows=OAuthFlows(
            authorizationCode=OAuthFlowAuthorizationCode(
                authorizationUrl=f"https://{frontend_api}/oauth/authorize",
                tokenUrl=f"https://{frontend_api}/oauth/token",
                scopes={},
            )
        ),
        description=description,
    )
    document: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    document[TOKEN_TYPE_EXTENSION] = token_type
    return document


def expand_auth_requirements(schema: dict[str, Any], app: Any, clerk: Clerk) -> None:
    """FastAPI documents each ``Auth`` as one security requirement (``Auth`` is the scheme):
    expand it into one alternative per token type it accepts (with ``"any"``, every kind
    registered on ``clerk``), with the route's and the ``Auth``'s scopes on scoped types."""
    schemes: dict[str, Any] = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    registry = clerk.registry
    placeholders: set[str] = set()
    for route in getattr(app, "routes", ()):
        by_name: dict[str, list[Any]] = {}
        for auth in route_auths(route):
            by_name.setdefault(auth.scheme_name, []).append(auth)
        if not by_name:
            continue
        for _, operation in _operations(schema, route):
            expanded: list[dict[str, list[str]]] = []
            for requirement in operation.get("security", []):
                names = list(requirement)
                if len(names) != 1 or names[0] not in by_name:
                    expanded.append(requirement)
                    continue
                placeholders.add(names[0])
                for auth in by_name[names[0]]:
                    scopes = list(dict.fromkeys([*requirement[names[0]], *auth.scopes]))
                    for token_type in auth.accepts.ordered(registry.token_types):
                        kind = (
                            registry.kind(token_type)
                            if token_type in registry
                            else kind_for(token_type)
                        )
                        name = auth.scheme_names.get(token_type) or kind.scheme_name
                        schemes.setdefault(name, scheme_document(kind))
                        alternative = {name: scopes if kind.scoped else []}
                        if alternative not in expanded:
                            expanded.append(alternative)
            operation["security"] = expanded
    referenced = {
        name
        for item in schema.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for requirement in operation.get("security", [])
        for name in requirement
    }
    for name in placeholders - referenced:
        schemes.pop(name, None)


def finish_openapi(schema: dict[str, Any], clerk: Clerk, app: Any = None) -> dict[str, Any]:
    if app is not None:
        expand_auth_requirements(schema, app, clerk)
    schemes: dict[str, Any] = schema.get("components", {}).get("securitySchemes", {})
    unscoped: set[str] = set()
    registry = clerk.registry
    for name, scheme in list(schemes.items()):
        token_type = scheme.get(TOKEN_TYPE_EXTENSION)
        if token_type is None:
            continue
        kind = registry.kind(token_type) if token_type in registry else None
        if kind is not None:
            scheme["bearerFormat"] = kind.bearer_format
            scheme["description"] = kind.description
            if not kind.scoped:
                unscoped.add(name)
        if kind is not None and kind.cookie and clerk.settings.session_cookie:
            scheme["description"] += COOKIE_NOTE
        fapi = clerk.settings.frontend_api
        if kind is not None and kind.oauth2_flow and fapi:
            schemes[name] = oauth2_scheme(fapi, scheme["description"], token_type)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for requirement in operation.get("security", []):
                for name in requirement:
                    if name in unscoped:
                        requirement[name] = []
    if app is not None:
        document_auth_answers(schema, app)
    list_oauth_scopes(schema)
    return schema


def attached_clerk(app: Any) -> Clerk | None:
    """The ``Clerk`` the app's ``Auth`` routes would use, found without a request, in the order
    ``get_clerk`` resolves it: a ``get_clerk`` override that takes no request, then
    ``app.state.clerk`` (``install``, a running lifespan, or set by hand), then the ``Clerk``
    whose ``lifespan`` the app was built with, then the one given as ``Auth(clerk=...)``."""
    overrides = getattr(app, "dependency_overrides", None) or {}
    override = overrides.get(get_clerk)
    if override is not None:
        try:
            wants_request = bool(inspect.signature(override).parameters)
        except (TypeError, ValueError):
            wants_request = True
        if not wants_request and not inspect.iscoroutinefunction(override):
            found = override()
            if isinstance(found, Clerk):
                return found
    attached = getattr(getattr(app, "state", None), "clerk", None)
    if isinstance(attached, Clerk):
        return attached
    lifespan = getattr(getattr(app, "router", None), "lifespan_context", None)
    owner = getattr(lifespan, "__self__", None)
    if isinstance(owner, Clerk):
        return owner
    for auth in app_auths(app):
        if isinstance(auth.clerk, Clerk):
            return auth.clerk
    return None


def finish_app_openapi(schema: dict[str, Any], app: Any) -> dict[str, Any]:
    """Finish ``app``'s freshly generated document: its ``ClerkWebhook`` routes, then, when a
    ``Clerk`` can be found (``attached_clerk``), its ``Auth`` routes."""
    document_webhook_routes(schema, app)
    clerk = attached_clerk(app)
    if clerk is not None:
        finish_openapi(schema, clerk, app)
        if clerk.settings.frontend_api and app.swagger_ui_init_oauth is None:
            app.swagger_ui_init_oauth = {"usePkceWithAuthorizationCodeGrant": True}
    return schema


_GENERATE = FastAPI.openapi


def _finished_openapi(self: FastAPI) -> dict[str, Any]:
    """``FastAPI.openapi``, finished by ``finish_app_openapi`` each time FastAPI generates it.

    Installed on the class when this module is imported, so the document is the same however
    the ``Clerk`` is attached (``lifespan``, ``install``, ``app.state.clerk``, an override of
    ``get_clerk``) and whether or not a request was served first. An app without ``Auth``,
    ``ClerkWebhook`` or a ``Clerk`` is left as FastAPI made it."""
    before = self.openapi_schema
    schema = _GENERATE(self)
    if schema is not before:
        finish_app_openapi(schema, self)
    return schema


if getattr(FastAPI.openapi, "__name__", "") != _finished_openapi.__name__:
    FastAPI.openapi = _finished_openapi  # type: ignore[method-assign]


def install_openapi(app: Any) -> None:
    """Regenerate ``app``'s document on next use (a ``Clerk`` was just attached to it)."""
    app.openapi_schema = None


def document_webhooks(app: Any) -> None:
    """Kept for compatibility: every app's ``ClerkWebhook`` routes are documented in its OpenAPI
    (request body and 400) whether or not a ``Clerk`` is attached; this only makes FastAPI
    generate the document again."""
    install_openapi(app)


# -- what Swagger UI and clients need beyond the schemes (issue 20) -----------------------------


def _operations(schema: dict[str, Any], route: Any) -> list[tuple[str, dict[str, Any]]]:
    """The documented operations of one route: (``"GET /path"``, operation)."""
    path = getattr(route, "path_format", None) or ""
    item = schema.get("paths", {}).get(path, {})
    found = []
    for method in sorted(getattr(route, "methods", None) or ()):
        operation = item.get(method.lower())
        if isinstance(operation, dict):
            found.append((f"{method} {path}", operation))
    return found


def _may_be_forbidden(auths: list[Any], operation: dict[str, Any]) -> bool:
    """A 403 needs something to lack: a scope, permission, role, feature, plan or reverification."""
    if any(auth.requirements != type(auth.requirements)() for auth in auths):
        return True
    return any(
        scopes for requirement in operation.get("security", []) for scopes in requirement.values()
    )


def document_auth_answers(schema: dict[str, Any], app: Any) -> None:
    """Operations protected by ``Auth`` document their 400, 401, 403 and 503 answers (the error
    body model, ``WWW-Authenticate`` / ``Retry-After``); ``optional=True`` routes also list the
    anonymous alternative ``{}`` in ``security``. Answers a route declares itself are kept."""
    documented = False
    for route in getattr(app, "routes", ()):
        auths = route_auths(route)
        if not auths:
            continue
        for _, operation in _operations(schema, route):
            documented = True
            responses = operation.setdefault("responses", {})
            for status, answer in AUTH_ANSWERS.items():
                if status == "403" and not _may_be_forbidden(auths, operation):
                    continue
                responses.setdefault(status, answer)
            security = operation.get("security")
            if all(auth.optional for auth in auths) and security and {} not in security:
                security.append({})
    if documented:
        add_error_schemas(schema)


def list_oauth_scopes(schema: dict[str, Any]) -> None:
    """The OAuth2 scheme lists every scope an operation requires of it, so Swagger UI's login
    offers them to tick (each described by the operations that need it)."""
    schemes: dict[str, Any] = schema.get("components", {}).get("securitySchemes", {})
    for name, scheme in schemes.items():
        if scheme.get("type") != "oauth2":
            continue
        users: dict[str, list[str]] = {}
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict):
                    continue
                for requirement in operation.get("security", []):
                    for scope in requirement.get(name, []):
                        users.setdefault(scope, []).append(f"{method.upper()} {path}")
        for flow in scheme.get("flows", {}).values():
            listed: dict[str, str] = flow.setdefault("scopes", {})
            for scope in sorted(users):
                listed.setdefault(scope, "Required by " + ", ".join(users[scope]))


def enable_swagger_pkce(app: Any, clerk: Clerk) -> None:
    """With a Frontend API (publishable key), Swagger UI logs in with the authorization-code
    flow and PKCE; set at install so the first ``/docs`` page already has it."""
    if clerk.settings.frontend_api and getattr(app, "swagger_ui_init_oauth", None) is None:
        app.swagger_ui_init_oauth = {"usePkceWithAuthorizationCodeGrant": True}
