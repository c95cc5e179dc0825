"""Finish the generated OpenAPI document with what only the app's ``Clerk`` knows.

- ``ClerkOAuth`` becomes an OAuth2 authorization-code scheme on the instance's Frontend API when
  the publishable key is known (so Swagger UI can log in with PKCE);
- session requirements drop scopes (sessions are not scoped; FastAPI passes a route's
  ``Security(..., scopes=)`` down to every scheme).
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import OAuth2, OAuthFlowAuthorizationCode, OAuthFlows

from clerk_fastapi.clerk import Clerk
from clerk_fastapi.fastapi_auth.schemes import (
    COOKIE_NOTE,
    SCHEME_DESCRIPTIONS,
    SCOPED_TYPES,
    TOKEN_TYPE_EXTENSION,
)


def oauth2_scheme(frontend_api: str) -> dict[str, Any]:
    model = OAuth2(
        flows=OAuthFlows(
            authorizationCode=OAuthFlowAuthorizationCode(
                authorizationUrl=f"https://{frontend_api}/oauth/authorize",
                tokenUrl=f"https://{frontend_api}/oauth/token",
                scopes={},
            )
        ),
        description=SCHEME_DESCRIPTIONS["oauth_token"],
    )
    document: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    document[TOKEN_TYPE_EXTENSION] = "oauth_token"
    return document


def finish_openapi(schema: dict[str, Any], clerk: Clerk) -> dict[str, Any]:
    schemes: dict[str, Any] = schema.get("components", {}).get("securitySchemes", {})
    unscoped: set[str] = set()
    for name, scheme in list(schemes.items()):
        token_type = scheme.get(TOKEN_TYPE_EXTENSION)
        if token_type is None:
            continue
        if token_type not in SCOPED_TYPES:
            unscoped.add(name)
        if token_type == "session_token" and clerk.settings.session_cookie:
            scheme["description"] = SCHEME_DESCRIPTIONS["session_token"] + COOKIE_NOTE
        fapi = clerk.settings.frontend_api
        if token_type == "oauth_token" and fapi:
            schemes[name] = oauth2_scheme(fapi)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for requirement in operation.get("security", []):
                for name in requirement:
                    if name in unscoped:
                        requirement[name] = []
    return schema


def install_openapi(app: Any, clerk: Clerk) -> None:
    """Wrap ``app.openapi`` once; later installs only swap the ``Clerk``."""
    app.state.clerk_openapi = clerk
    if getattr(app, "_clerk_openapi_installed", False):
        app.openapi_schema = None
        return
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema  # type: ignore[no-any-return]
        schema: dict[str, Any] = original()
        return finish_openapi(schema, app.state.clerk_openapi)

    app.openapi = openapi
    app._clerk_openapi_installed = True
    app.openapi_schema = None
    if clerk.settings.frontend_api and app.swagger_ui_init_oauth is None:
        app.swagger_ui_init_oauth = {"usePkceWithAuthorizationCodeGrant": True}
