"""The fake's Backend API: JWKS, the verify endpoints, the M2M-token and API-key APIs and the
machines, with request recording and fault injection.

Every path is served both under ``/v1`` (Clerk's spec lists them under
``https://api.clerk.com/v1``, where the Python SDK sends them) and unversioned (where the JS
SDK sends the token endpoints; real Clerk answers both). The paths are Clerk's literal paths,
not derived from the package's own records, so a wrong path in the package cannot be mirrored
by the fake.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.testing.fake._common import (
    M2M_TOKEN_ID,
    MACHINE_ID,
    Record,
    bad_lifetime,
    bad_param,
    hex_id,
    missing_param,
    not_found,
    number,
    page,
    query_bool,
    random_text,
    unknown_params,
    whole,
)
from clerk_fastapi.testing.fake._common import error as _error
from clerk_fastapi.testing.fake.api_keys import APIKeyEndpoints
from clerk_fastapi.testing.fake.faults import Fault, RecordedRequest, fault_response
from clerk_fastapi.testing.fake.frontend import FrontendAPI
from clerk_fastapi.testing.fake.machines import FakeMachine, Machines

# The verify endpoints: (path, endpoint name, kind, body fields read in order, 404 message).
# ``secret`` is the deprecated field the Python SDK's ``verify_token`` still posts.
VERIFY_ENDPOINTS = (
    (
        "/m2m_tokens/verify",
        "m2m_verify",
        "m2m_token",
        ("token", "secret"),
        "Machine token not found",
    ),
    ("/api_keys/verify", "api_key_verify", "api_key", ("secret",), "API key not found"),
    (
        "/oauth_applications/access_tokens/verify",
        "oauth_verify",
        "oauth_token",
        ("access_token", "secret"),
        "OAuth token not found",
    ),
)
_M2M_CREATE_FIELDS = {
    "token_format",
    "seconds_until_expiration",
    "claims",
    "min_remaining_ttl_seconds",
}


def both_versions(routes: list[Route]) -> list[Route]:
    """Each route under ``/v1`` and unversioned."""
    served: list[Route] = []
    for route in routes:
        methods = sorted(route.methods or ())
        served.append(Route("/v1" + route.path, route.endpoint, methods=methods))
        served.append(route)
    return served


class BackendAPI(FrontendAPI, Machines, APIKeyEndpoints):
    secret_key: str
    hits: Counter[str]
    requests: list[RecordedRequest]
    faults: dict[str, Fault]

    def jwks(self) -> Any:
        raise NotImplementedError

    def _routes(self) -> list[Route]:
        api = self._endpoint
        verify_routes = [
            Route(path, api(name, self._verify(kind, fields, message)), methods=["POST"])
            for path, name, kind, fields, message in VERIFY_ENDPOINTS
        ]
        key = "/api_keys/{token_id}"
        backend = [
            Route("/jwks", api("jwks", self._jwks), methods=["GET"]),
            *verify_routes,
            Route("/m2m_tokens", api("m2m_create", self._m2m_create), methods=["POST"]),
            Route("/m2m_tokens", api("m2m_list", self._m2m_list), methods=["GET"]),
            Route(
                "/m2m_tokens/{token_id}/revoke",
                api("m2m_revoke", self._revoke_by_id),
                methods=["POST"],
            ),
            Route("/api_keys", api("api_key_create", self._api_key_create), methods=["POST"]),
            Route("/api_keys", api("api_key_list", self._api_key_list), methods=["GET"]),
            Route(key, api("api_key_get", self._api_key_get), methods=["GET"]),
            Route(key, api("api_key_update", self._api_key_update), methods=["PATCH"]),
            Route(key, api("api_key_delete", self._api_key_delete), methods=["DELETE"]),
            Route(f"{key}/secret", api("api_key_secret", self._api_key_secret), methods=["GET"]),
            Route(f"{key}/revoke", api("api_key_revoke", self._revoke_by_id), methods=["POST"]),
            *self._machine_routes(api),
        ]
        return [*self._frontend_routes(self._public_endpoint), *both_versions(backend)]

    def _public_endpoint(
        self, name: str, handler: Callable[[Request, Any], Any]
    ) -> Callable[[Request], Any]:
        """A Frontend API endpoint: no secret key."""
        return self._endpoint(name, handler, public=True)

    def _endpoint(
        self, name: str, handler: Callable[[Request, Any], Any], *, public: bool = False
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.hits[name] += 1
            raw = await request.body()
            malformed = False
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body, malformed = None, True
            self.requests.append(
                RecordedRequest(
                    name,
                    request.method,
                    request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                    dict(request.headers),
                    body,
                )
            )
            failure = await fault_response(self.faults, name)
            if failure is not None:
                return failure
            if not public and not self._authorised(request, name):
                return _error(401, "Invalid secret key", "clerk_key_invalid")
            if malformed and not public:
                # Not JSON (or not UTF-8): Clerk's 400, never a guess at what was meant.
                return bad_param("body", "is not valid JSON")
            result: Response = await handler(request, body)
            return result

        return endpoint

    def _authorised(self, request: Request, name: str) -> bool:
        if name == "m2m_create":
            return True  # _m2m_create answers any other key with Clerk's own 401
        if request.headers.get("authorization", "") == f"Bearer {self.secret_key}":
            return True
        # M2M calls take a machine's key too; _m2m_create refuses the instance key with Clerk's
        # code. The /v1/machines endpoints take the instance key only.
        return name.startswith("m2m_") and self._machine_of(request) is not None

    async def _jwks(self, request: Request, body: Any) -> Response:
        return JSONResponse(self.jwks())

    def _verify(
        self, kind: str, fields: tuple[str, ...], not_found_message: str
    ) -> Callable[[Request, Any], Any]:

        async def handler(request: Request, body: Any) -> Response:
            given = body if isinstance(body, dict) else {}
            token = next((given[f] for f in fields if isinstance(given.get(f), str)), None)
            if token is None:
                return missing_param(fields[0])
            record = self._store.get(token)
            if record is None or record.kind != kind or record.revoked:
                return not_found(not_found_message)
            resource = record.resource
            expiration = resource.get("expiration")
            if expiration is not None and expiration <= self.clock() * 1000:
                return not_found(not_found_message)
            verifier = self._machine_of(request) if kind == "m2m_token" else None
            if (
                verifier is not None
                and self.machine_verify_requires_scope
                and verifier.id not in resource.get("scopes", [])
            ):
                # Not documented by Clerk: off by default (see testing/fake/machines.py).
                return not_found(not_found_message)
            return JSONResponse(resource)

        return handler

    async def _m2m_create(self, request: Request, body: Any) -> Response:
        caller = self._machine_of(request)
        if caller is None:
            return _error(
                401,
                "The provided Machine Secret Key is invalid. Make sure that your Machine "
                "Secret Key is correct.",
                "machine_secret_key_invalid",
            )
        if body is None:
            body = {}  # no body at all: every field left out
        if not isinstance(body, dict):
            return bad_param("body", "must be a JSON object")
        refused = unknown_params(body, _M2M_CREATE_FIELDS)
        if refused is not None:
            return refused
        # The spec types both lifetimes as numbers: 600 and 600.0 (the Python SDK) alike.
        seconds = body.get("seconds_until_expiration")
        if bad_lifetime(seconds):
            return bad_param("seconds_until_expiration", "must be a positive number")
        lifetime = number(seconds)
        min_ttl = body.get("min_remaining_ttl_seconds")
        if min_ttl is not None and ((min_ttl := whole(min_ttl)) is None or min_ttl < 0):
            return bad_param("min_remaining_ttl_seconds", "must be a whole number, 0 or more")
        claims = body.get("claims")
        if not isinstance(claims, dict | None):
            return bad_param("claims", "must be an object")
        token_format = body.get("token_format", "opaque")
        if token_format not in ("opaque", "jwt"):
            return bad_param("token_format", "must be opaque or jwt")
        machine = caller.id
        # The machines it may call, as of now: a later scope change does not touch this token.
        scopes = [m for m in caller.scoped_machines if m in self.machines]
        # Without a lifetime the machine's default_token_ttl applies (Clerk's spec).
        expires_in = lifetime if lifetime is not None else float(caller.default_token_ttl)
        if min_ttl is not None and token_format == "opaque" and min_ttl >= expires_in:
            return bad_param("min_remaining_ttl_seconds", "must be less than the token's lifetime")
        if token_format == "jwt":
            # Clerk does not store JWT tokens: nothing to list, verify remotely or revoke.
            whole_seconds = max(1, round(expires_in))
            token = self.m2m_token(
                "jwt", machine_id=machine, scopes=scopes, claims=claims, expires_in=whole_seconds
            )
            payload = parse_compact(token).payload
            resource = self._m2m_resource(
                payload["jti"], machine, scopes, claims, payload["iat"], whole_seconds
            )
            return JSONResponse({**resource, "token": token}, status_code=201)
        now_ms = self._now_ms()
        if min_ttl is not None:
            reusable = self._reusable_m2m(machine, claims, scopes, now_ms + min_ttl * 1000)
            if reusable is not None:
                resource = self._store[reusable].resource
                return JSONResponse({**resource, "token": reusable}, status_code=201)
        token = "mt_" + random_text(40)
        resource = self._m2m_resource(hex_id("mt_"), machine, scopes, claims, self._now(), None)
        resource.update(
            created_at=now_ms, updated_at=now_ms, expiration=now_ms + int(expires_in * 1000)
        )
        self._remember(token, Record("m2m_token", resource))
        return JSONResponse({**resource, "token": token}, status_code=201)

    def _reusable_m2m(
        self, machine: str, claims: Any, scopes: list[str], alive_until_ms: int
    ) -> str | None:
        """An opaque token of ``machine`` with the same claims and scopes, valid until
        ``alive_until_ms``."""
        for token, record in self._store.items():
            resource = record.resource
            expiration = resource.get("expiration")
            if (
                record.kind == "m2m_token"
                and not record.revoked
                and resource.get("subject") == machine
                and resource.get("claims") == claims
                and resource.get("scopes") == scopes
                and (expiration is None or expiration >= alive_until_ms)
            ):
                return token
        return None

    async def _m2m_list(self, request: Request, body: Any) -> Response:
        subject = request.query_params.get("subject")
        if not subject:
            return missing_param("subject")
        if MACHINE_ID.fullmatch(subject) is None:
            return bad_param("subject", "must be a machine id")
        revoked = query_bool(request, "revoked")
        expired = query_bool(request, "expired")
        if isinstance(revoked, Response):
            return revoked
        if isinstance(expired, Response):
            return expired
        caller = self._machine_of(request)
        records = [
            record
            for record in self._store.values()
            if record.kind == "m2m_token"
            and record.resource.get("subject") == subject
            # A machine key sees its own tokens only.
            and (caller is None or caller.id == subject)
        ]
        now_ms = self.clock() * 1000
        listed = []
        for record in self._newest_first(records):
            expiration = record.resource.get("expiration")
            item = {**record.resource, "expired": expiration is not None and expiration <= now_ms}
            if (item["revoked"] and not revoked) or (item["expired"] and not expired):
                continue  # Clerk's default leaves revoked and expired tokens out
            listed.append(item)
        picked = page(listed, request)
        if isinstance(picked, Response):
            return picked
        return JSONResponse({"m2m_tokens": picked, "total_count": len(listed)})

    async def _revoke_by_id(self, request: Request, body: Any) -> Response:
        token_id = request.path_params["token_id"]
        m2m = request.url.path.removeprefix("/v1").startswith("/m2m_tokens/")
        if m2m and M2M_TOKEN_ID.fullmatch(token_id) is None:
            return bad_param("m2m_token_id", "is not a valid M2M token id")
        if not m2m:
            found = self._api_key_record(request)
            if isinstance(found, Response):
                return found
        kind = "m2m_token" if m2m else "api_key"
        token = self._by_id.get(token_id)
        if token is None or self._store[token].kind != kind:
            return not_found()
        subject = self._store[token].resource.get("subject")
        caller: FakeMachine | None = self._machine_of(request)
        if caller is not None and subject != caller.id:
            return not_found()  # another machine's token
        body = body if isinstance(body, dict) else {}
        refused = unknown_params(body, {"revocation_reason"})
        if refused is not None:
            return refused
        reason = body.get("revocation_reason")
        if reason is not None and not isinstance(reason, str):
            return bad_param("revocation_reason", "must be a string")
        self.revoke(token, reason)
        self._store[token].resource["updated_at"] = self._now_ms()
        if not m2m:
            return JSONResponse(self._api_key_json(self._store[token]))
        return JSONResponse(self._store[token].resource)
