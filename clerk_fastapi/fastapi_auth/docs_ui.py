"""Swagger UI and ReDoc without a CDN: their assets come from the ``fastapi-offline`` package
(the ``docs-ui`` extra), so ``/docs`` renders on a machine with no internet access."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
ASSETS_URL = "/docs-assets"


def assets_directory() -> Path:
    """The directory of the packaged Swagger UI and ReDoc files (``fastapi-offline``)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise ImportError(
            "offline_docs=True serves Swagger UI from the fastapi-offline package: "
            "pip install 'clerk-fastapi[docs-ui]'"
        )
    directory = Path(spec.origin).parent / "static"
    missing = [name for name in ASSETS if not (directory / name).is_file()]
    if missing:
        raise ImportError(f"fastapi-offline at {directory} lacks {', '.join(missing)}")
    return directory


def _is_page(route: BaseRoute, paths: set[str]) -> bool:
    return isinstance(route, Route) and route.path in paths


def serve_docs_offline(app: Any, assets_url: str = ASSETS_URL) -> None:
    """Replace the app's ``/docs`` and ``/redoc`` pages (``app.docs_url`` / ``app.redoc_url``)
    with the same pages loading their assets from ``assets_url``; the OAuth2 redirect page and
    ``swagger_ui_init_oauth`` (PKCE) and ``swagger_ui_parameters`` are kept. Idempotent."""
    if getattr(app, "_clerk_offline_docs", None) == assets_url:
        return
    directory = assets_directory()
    pages = {url for url in (app.docs_url, app.redoc_url) if url}
    app.router.routes[:] = [route for route in app.router.routes if not _is_page(route, pages)]
    app.mount(assets_url, StaticFiles(directory=directory), name="clerk-docs-assets")

    def urls(request: Request) -> tuple[str, str]:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return root + app.openapi_url, root + assets_url

    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi_url, assets = urls(request)
        redirect = app.swagger_ui_oauth2_redirect_url
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def redoc(request: Request) -> HTMLResponse:
        openapi_url, assets = urls(request)
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )

    if app.openapi_url:
        if app.docs_url:
            app.add_route(app.docs_url, swagger_ui, include_in_schema=False)
        if app.redoc_url:
            app.add_route(app.redoc_url, redoc, include_in_schema=False)
    app._clerk_offline_docs = assets_url
