"""A fifth built-in type seen from outside, through a real FastAPI app: ``Auth(accepts=...)``
with scopes, ``accepts="any"``, a list of types, its Backend API client and the OpenAPI
document. ``observe`` runs it (in the test process, or in a subprocess on a copy of the
package); ``check`` says what a built-in type must show."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk
from clerk_fastapi.kinds.builtin import client_of
from clerk_fastapi.testing import FakeClerk
from tests.any_app import bearer, client_for

SECRET = "pat_" + "k" * 32
UNKNOWN = "pat_" + "u" * 32
SUBJECT = "user_" + "2" * 27


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": code}]})


class WithVerifyEndpoint(httpx.AsyncBaseTransport):
    """The fake Clerk, plus the new type's verify endpoint: the fake models Clerk with its
    literal paths, so a real new type is one entry in its ``VERIFY_ENDPOINTS`` as well."""

    def __init__(self, fake: FakeClerk, path: str, field: str) -> None:
        self._fake = fake
        self._inner = fake.transport()
        self._path = path
        self._field = field
        self.verify_calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith(self._path):
            return await self._inner.handle_async_request(request)
        self.verify_calls += 1
        if request.headers.get("authorization") != f"Bearer {self._fake.secret_key}":
            return _error(401, "authentication_invalid")
        if json.loads(request.content).get(self._field) != SECRET:
            return _error(404, "resource_not_found")
        resource = {"object": "pat", "id": "pat_id_1", "subject": SUBJECT, "scopes": ["read"]}
        return httpx.Response(200, json={**resource, "name": "ci"})


def _app(clerk: Clerk, name: str) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/pat")
    async def pat(auth: Any = Depends(Auth(accepts=name, scopes=["read"]))) -> dict[str, Any]:
        return {"type": auth.token_type, "subject": auth.subject, "name": auth.name}

    @app.get("/write")
    async def write(auth: Any = Depends(Auth(accepts=name, scopes=["write"]))) -> str:
        return "written"

    @app.get("/any")
    async def anything(auth: Any = Depends(Auth(accepts="any"))) -> str:
        return str(auth.token_type)

    @app.get("/keys")
    async def keys(auth: Any = Depends(Auth(accepts=["api_key", name]))) -> str:
        return str(auth.token_type)

    return app


async def observe(pat: ModuleType, clerk_class: type[Clerk]) -> dict[str, Any]:
    """Status (and body, when 200) per route and token, the client's answer, Backend API
    calls, the registry's types and the OpenAPI security, as JSON-able data."""
    fake = FakeClerk()
    transport = WithVerifyEndpoint(fake, pat.backend.VERIFY_PATH, pat.backend.VERIFY_FIELD)
    clerk = clerk_class(fake.settings(), transport=transport, clock=fake.clock)
    app = _app(clerk, pat.KIND.name)
    tokens = {
        "pat": SECRET,
        "unknown pat": UNKNOWN,
        "session": fake.session_token(user_id=SUBJECT),
        "api key": fake.api_key(scopes=["read"]),
    }
    seen: dict[str, Any] = {"answers": {}}
    async with client_for(app) as client:
        for path in ("/pat", "/write", "/any", "/keys"):
            for label, token in tokens.items():
                response = await client.get(path, headers=bearer(token))
                body = response.json() if response.status_code == 200 else None
                seen["answers"][f"{path} {label}"] = [response.status_code, body]
    resource = await client_of(clerk._clients, pat.PATClient).verify(SECRET)
    seen["client"] = [type(resource).__name__, resource.subject, resource.name]
    seen["verify_calls"] = transport.verify_calls
    seen["registry"] = list(clerk.registry.token_types)
    document = app.openapi()
    seen["scheme"] = document["components"]["securitySchemes"][pat.KIND.scheme_name]
    seen["security"] = {
        path: document["paths"][path]["get"]["security"] for path in ("/pat", "/any", "/keys")
    }
    await clerk.aclose()
    return seen


def check(seen: dict[str, Any], pat: ModuleType) -> None:
    answers = seen["answers"]
    ok = {"type": pat.KIND.name, "subject": SUBJECT, "name": "ci"}
    assert answers["/pat pat"] == [200, ok]
    assert answers["/any pat"] == [200, pat.KIND.name]
    assert answers["/keys pat"] == [200, pat.KIND.name]
    assert answers["/keys api key"] == [200, "api_key"]
    assert answers["/any session"] == [200, "session_token"]
    assert answers["/write pat"][0] == 403  # verified, lacks the scope
    for refused in ("/pat unknown pat", "/any unknown pat", "/pat session", "/pat api key"):
        assert answers[refused][0] == 401, refused
    assert answers["/keys session"][0] == 401
    # Clerk is asked once per request with the good token (an opaque answer is not reused by
    # default: revocation is instant), once in all for the unknown one (the negative cache),
    # once by the client, never for a token of another type.
    assert seen["verify_calls"] == 4 + 1 + 1
    assert seen["client"] == ["PersonalAccessToken", SUBJECT, "ci"]
    assert seen["registry"][-1] == pat.KIND.name and len(seen["registry"]) == 5
    assert seen["scheme"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pat_...",
        "description": pat.KIND.description,
        "x-clerk-token-type": pat.KIND.name,
    }
    assert seen["security"] == {
        "/pat": [{"ClerkPAT": ["read"]}],
        "/any": [
            {"ClerkSession": []},
            {"ClerkOAuth": []},
            {"ClerkM2M": []},
            {"ClerkAPIKey": []},
            {"ClerkPAT": []},
        ],
        "/keys": [{"ClerkAPIKey": []}, {"ClerkPAT": []}],
    }
