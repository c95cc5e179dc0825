"""Finish the generated OpenAPI document with what only the app's ``Clerk`` knows.

- ``ClerkOAuth`` becomes an OAuth2 authorization-code scheme on the instance's Frontend API when
  the publishable key is known (so Swagger UI can log in with PKCE);
- session requirements drop scopes (sessions are not scoped; FastAPI passes a route's
  ``Security(..., scopes=)`` down to every scheme);
- token types registered on the ``Clerk`` are documented from their ``TokenKind``, and routes
  that accept ``"any"`` list them too.

The ``Clerk`` is looked up when the document is generated, so it does not matter how it was
attached (``lifespan``, ``install``, ``app.state.clerk`` or ``get_clerk``'s first use).
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import OAuth2, OAuthFlowAuthorizationCode, OAuthFlows

from clerk_fastapi.clerk import Clerk
from clerk_fastapi.fastapi_auth.routes import route_auths
from clerk_fastapi.fastapi_auth.schemes import (
    BUILTIN,
    COOKIE_NOTE,
    TOKEN_TYPE_EXTENSION,
    kind_for,
    scheme_document,
)


def oauth2_scheme(frontend_api: str, description: str) -> dict[str, Any]:
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
    document[TOKEN_TYPE_EXTENSION] = "oauth_token"
    return document


def _add_registered_kinds(schema: dict[str, Any], app: Any, clerk: Clerk) -> None:
    """Routes that accept "any" also accept the kinds registered on this ``Clerk``."""
    schemes: dict[str, Any] = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    paths = schema.get("paths", {})
    for route in getattr(app, "routes", ()):
        operations = paths.get(getattr(route, "path_format", None) or "", {})
        for auth in route_auths(route):
            if not auth.accepts.any:
                continue
            for token_type in auth.accepts.ordered(clerk.registry.token_types):
                if token_type in auth.accepts.types:
                    continue
                kind = clerk.registry.kind(token_type)
                name = auth.scheme_names.get(token_type) or kind.scheme_name
                schemes.setdefault(name, scheme_document(kind))
                for operation in operations.values():
                    if isinstance(operation, dict):
                        security = operation.setdefault("security", [])
                        if {name: []} not in security:
                            security.append({name: []})


def _rename(schema: dict[str, Any], old: str, new: str) -> None:
    schemes: dict[str, Any] = schema["components"]["securitySchemes"]
    schemes.setdefault(new, schemes.pop(old))
    schemes.pop(old, None)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                operation["security"] = [
                    {new if name == old else name: scopes for name, scopes in requirement.items()}
                    for requirement in operation.get("security", [])
                ]


def _name_registered_kinds(schema: dict[str, Any], clerk: Clerk) -> None:
    """A registered kind declared by name only got a placeholder scheme name: use its own."""
    schemes: dict[str, Any] = schema.get("components", {}).get("securitySchemes", {})
    for name, scheme in list(schemes.items()):
        token_type = scheme.get(TOKEN_TYPE_EXTENSION)
        if token_type in BUILTIN or token_type not in clerk.registry:
            continue
        wanted = clerk.registry.kind(token_type).scheme_name
        if name == kind_for(token_type).scheme_name and name != wanted:
            _rename(schema, name, wanted)


def finish_openapi(schema: dict[str, Any], clerk: Clerk, app: Any = None) -> dict[str, Any]:
    _name_registered_kinds(schema, clerk)
    if app is not None:
        _add_registered_kinds(schema, app, clerk)
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
        if token_type == "session_token" and clerk.settings.session_cookie:
            scheme["description"] += COOKIE_NOTE
        fapi = clerk.settings.frontend_api
        if token_type == "oauth_token" and fapi:
            schemes[name] = oauth2_scheme(fapi, scheme["description"])
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for requirement in operation.get("security", []):
                for name in requirement:
                    if name in unscoped:
                        requirement[name] = []
    return schema


def install_openapi(app: Any) -> None:
    """Wrap ``app.openapi`` once so that it is finished with the app's ``Clerk``."""
    if getattr(app, "_clerk_openapi_installed", False):
        app.openapi_schema = None
        return
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema  # type: ignore[no-any-return]
        schema: dict[str, Any] = original()
        clerk = getattr(app.state, "clerk", None)
        if isinstance(clerk, Clerk):
            finish_openapi(schema, clerk, app)
            if clerk.settings.frontend_api and app.swagger_ui_init_oauth is None:
                app.swagger_ui_init_oauth = {"usePkceWithAuthorizationCodeGrant": True}
        return schema

    app.openapi = openapi
    app._clerk_openapi_installed = True
    app.openapi_schema = None
