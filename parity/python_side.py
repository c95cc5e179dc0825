"""Our side of the auth run: every case through ``Clerk.authenticate_request`` on a Starlette
request built from the same method, URL and headers, with the clock frozen to the case's time."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from backends import Backends
from compare import FIELD_MAP
from starlette.requests import Request

from clerk_fastapi import Clerk, ClerkSettings
from clerk_fastapi.testing import FrozenClock


def starlette_request(spec: dict[str, Any]) -> Request:
    parts = urlsplit(spec["url"])
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in spec["headers"]]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": spec["method"],
        "scheme": parts.scheme,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": headers,
        "server": (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
        "client": ("127.0.0.1", 50000),
    }
    return Request(scope)


def principal_fields(principal: Any, token_type: str | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    data = principal.model_dump(mode="json")
    mapping = FIELD_MAP.get(str(token_type), [])
    return {clerk_name: data.get(ours_name) for clerk_name, ours_name in mapping}


async def run_python(
    cases: list[dict[str, Any]], backends: Backends, clock: FrozenClock
) -> list[dict[str, Any]]:
    clerks: dict[str, Clerk] = {}
    results = []
    try:
        for case in cases:
            clock.set(case["now"])
            cfg = case["config"]
            key = json.dumps(cfg, sort_keys=True)
            result: dict[str, Any]
            try:
                if key not in clerks:
                    concrete = backends.resolve(cfg)
                    settings: dict[str, Any] = {
                        "session_cookie": True,
                        "api_url": concrete["api_url"],
                        "secret_key": concrete["secret_key"],
                        "publishable_key": concrete["publishable_key"],
                    }
                    for name in ("authorized_parties", "audience", "issuer"):
                        if cfg.get(name):
                            settings[name] = cfg[name]
                    for name in ("jwt_key", "machine_secret_key"):
                        if concrete[name]:
                            settings[name] = concrete[name]
                    clerks[key] = Clerk(ClerkSettings(**settings), clock=clock)
                clerk = clerks[key]
                # Drop this case's cached results; the JWKS stays cached, as in Clerk's SDK.
                for token in case["tokens"]:
                    clerk.forget_token(token)
                accepts = "session_token" if case["accepts"] is None else case["accepts"]
                state = await clerk.authenticate_request(
                    starlette_request(case["request"]), accepts
                )
                auth = state.to_auth()
                pending = state.to_auth(treat_pending_as_signed_out=False)
                result = {
                    "status": state.status,
                    "reason": state.reason,
                    "message": state.message,
                    "tokenType": state.token_type,
                    "error": state.error,
                    "isAuthenticated": auth is not None,
                    "auth": principal_fields(auth, state.token_type),
                    "authPending": principal_fields(pending, state.token_type),
                }
            except Exception as exc:  # the package must never raise; record it as a difference
                result = {
                    "status": "error",
                    "reason": None,
                    "message": f"{type(exc).__name__}: {exc}"[:300],
                    "tokenType": None,
                    "error": "exception",
                    "isAuthenticated": False,
                    "auth": None,
                    "authPending": None,
                }
            results.append(result)
    finally:
        for clerk in clerks.values():
            await clerk.aclose()
    return results
