"""Serving the Protected Resource Metadata document from a FastAPI app."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

# Public, non-secret, and fetched by browser-based MCP clients from other origins.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "*",
}
PREFLIGHT_HEADERS = {**CORS_HEADERS, "Access-Control-Max-Age": "86400"}
CACHE_HEADERS = {"Cache-Control": "public, max-age=3600"}


def metadata_router(document: Callable[[], dict[str, Any]], paths: Sequence[str]) -> APIRouter:
    router = APIRouter()

    async def get() -> Response:
        return JSONResponse(document(), headers={**CORS_HEADERS, **CACHE_HEADERS})

    async def preflight() -> Response:
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)

    for path in paths:
        # HEAD is answered by the GET route (Starlette drops the body).
        router.add_api_route(path, get, methods=["GET", "HEAD"], include_in_schema=False)
        router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)
    return router
