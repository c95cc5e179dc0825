"""The fake's Backend API: JWKS, the verify endpoints of every opaque kind in the registry,
and the management endpoints, with request recording and fault injection."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.kinds import BUILTIN_KINDS
from clerk_fastapi.testing.fake._common import Record, hex_id, random_text
from clerk_fastapi.testing.fake._common import error as _error
from clerk_fastapi.testing.fake._common import optional_int as _optional_int
from clerk_fastapi.testing.fake._common import page as _page
from clerk_fastapi.testing.fake.faults import Fault, RecordedRequest, fault_response
from clerk_fastapi.testing.fake.frontend import FrontendAPI
from clerk_fastapi.testing.fake.machines import FakeMachine, Machines


def endpoint_name(kind_name: str) -> str:
    """``m2m_token`` -> ``m2m``: the prefix of the fake's endpoint names for a kind."""
    return kind_name.removesuffix("_token")


class BackendAPI(FrontendAPI, Machines):
    secret_key: str
    hits: Counter[str]
    requests: list[RecordedRequest]
    faults: dict[str, Fault]

    def jwks(self) -> Any:
        raise NotImplementedError

    def _routes(self) -> list[Route]:
        verify_routes = [
            Route(
                kind.verify_path,
                self._endpoint(
                    f"{endpoint_name(kind.name)}_verify",
                    self._verify(kind.name, kind.verify_field, kind.not_found),
                ),
                methods=["POST"],
            )
            for kind in BUILTIN_KINDS
            if kind.verify_path
        ]
        return [
            *self._frontend_routes(self._public_endpoint),
            Route("/v1/jwks", self._endpoint("jwks", self._jwks), methods=["GET"]),
            *verify_routes,
            Route("/m2m_tokens", self._endpoint("m2m_create", self._m2m_create), methods=["POST"]),
            Route("/m2m_tokens", self._endpoint("m2m_list", self._m2m_list), methods=["GET"]),
            Route(
                "/m2m_tokens/{token_id}/revoke",
                self._endpoint("m2m_revoke", self._revoke_by_id),
                methods=["POST"],
            ),
            Route(
                "/api_keys",
                self._endpoint("api_key_create", self._api_key_create),
                methods=["POST"],
            ),
            Route("/api_keys", self._endpoint("api_key_list", self._api_key_list), methods=["GET"]),
            Route(
                "/api_keys/{token_id}/revoke",
                self._endpoint("api_key_revoke", self._revoke_by_id),
                methods=["POST"],
            ),
            *self._machine_routes(self._endpoint),
        ]

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
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
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

    def _verify(self, kind: str, body_key: str, not_found: str) -> Callable[[Request, Any], Any]:

        async def handler(request: Request, body: Any) -> Response:
            token = body.get(body_key) if isinstance(body, dict) else None
            record = self._store.get(token) if isinstance(token, str) else None
            if record is None or record.kind != kind or record.revoked:
                return _error(404, not_found, "resource_not_found")
            resource = record.resource
            expiration = resource.get("expiration")
            if expiration is not None and expiration <= self.clock() * 1000:
                return _error(404, not_found, "resource_not_found")
            verifier = self._machine_of(request) if kind == "m2m_token" else None
            if (
                verifier is not None
                and self.machine_verify_requires_scope
                and verifier.id not in resource.get("scopes", [])
            ):
                # Not documented by Clerk: off by default (see testing/fake/machines.py).
                return _error(404, not_found, "resource_not_found")
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
        body = body if isinstance(body, dict) else {}
        expires_in = body.get("seconds_until_expiration")
        min_ttl = body.get("min_remaining_ttl_seconds")
        claims = body.get("claims")
        token_format = body.get("token_format", "opaque")
        if not _optional_int(expires_in) or not _optional_int(min_ttl):
            return _error(422, "seconds must be whole numbers", "form_param_format_invalid")
        if token_format not in ("opaque", "jwt") or not isinstance(claims, dict | None):
            return _error(422, "token_format or claims is invalid", "form_param_value_invalid")
        now = self._now()
        machine = caller.id
        # The machines it may call, as of now: a later scope change does not touch this token.
        scopes = [m for m in caller.scoped_machines if m in self.machines]
        # Without a lifetime the machine's default_token_ttl applies (Clerk's spec).
        expires_in = expires_in if expires_in is not None else caller.default_token_ttl
        if min_ttl is not None and token_format == "opaque" and min_ttl >= expires_in:
            return _error(
                400,
                "min_remaining_ttl_seconds must be less than the token's lifetime",
                "form_param_value_invalid",
            )
        if token_format == "jwt":
            # Clerk does not store JWT tokens: nothing to list, verify remotely or revoke.
            token = self.m2m_token(
                "jwt",
                machine_id=machine,
                scopes=scopes,
                claims=claims,
                expires_in=expires_in,
            )
            token_id = parse_compact(token).payload["jti"]
            resource = self._m2m_resource(token_id, machine, scopes, claims, now, expires_in)
            return JSONResponse({**resource, "token": token})
        if min_ttl is not None:
            reusable = self._reusable_m2m(machine, claims, scopes, now + min_ttl)
            if reusable is not None:
                return JSONResponse({**self._store[reusable].resource, "token": reusable})
        token = "mt_" + random_text(40)
        resource = self._m2m_resource(hex_id("mt_"), machine, scopes, claims, now, expires_in)
        self._remember(token, Record("m2m_token", resource))
        return JSONResponse({**resource, "token": token})

    def _reusable_m2m(
        self, machine: str, claims: Any, scopes: list[str], alive_until: int
    ) -> str | None:
        """An opaque token of ``machine`` with the same claims and scopes, valid until
        ``alive_until``."""
        for token, record in self._store.items():
            resource = record.resource
            expiration = resource.get("expiration")
            if (
                record.kind == "m2m_token"
                and not record.revoked
                and resource.get("subject") == machine
                and resource.get("claims") == claims
                and resource.get("scopes") == scopes
                and (expiration is None or expiration >= alive_until * 1000)
            ):
                return token
        return None

    async def _m2m_list(self, request: Request, body: Any) -> Response:
        subject = request.query_params.get("subject")
        if not subject:
            return _error(422, "subject is required", "form_param_missing")
        caller = self._machine_of(request)
        if caller is not None and subject != caller.id:
            return JSONResponse({"m2m_tokens": [], "total_count": 0})  # its own tokens only
        items = [r.resource for r in self._store.values() if r.kind == "m2m_token"]
        params = request.query_params
        items = self._listed(
            items, subject, params.get("revoked") == "true", params.get("expired") == "true"
        )
        return JSONResponse({"m2m_tokens": _page(items, request), "total_count": len(items)})

    async def _api_key_create(self, request: Request, body: Any) -> Response:
        body = body if isinstance(body, dict) else {}
        subject = body.get("subject")
        name = body.get("name")
        if not isinstance(subject, str) or not isinstance(name, str):
            return _error(422, "subject and name are required", "form_param_missing")
        if not _optional_int(body.get("seconds_until_expiration")):
            return _error(422, "seconds must be whole numbers", "form_param_format_invalid")
        token = "ak_" + random_text(40)
        resource = self._api_key_resource(
            subject,
            body.get("scopes"),
            name,
            body.get("claims"),
            body.get("description"),
            self._now(),
            body.get("seconds_until_expiration"),
        )
        if isinstance(body.get("created_by"), str):
            resource["created_by"] = body["created_by"]
        self._remember(token, Record("api_key", resource))
        return JSONResponse({**resource, "secret": token})

    async def _api_key_list(self, request: Request, body: Any) -> Response:
        subject = request.query_params.get("subject")
        if not subject:
            return _error(422, "subject is required", "form_param_missing")
        items = [r.resource for r in self._store.values() if r.kind == "api_key"]
        invalid = request.query_params.get("include_invalid") == "true"
        items = self._listed(items, subject, invalid, invalid)
        return JSONResponse({"data": _page(items, request), "total_count": len(items)})

    def _listed(
        self, items: list[dict[str, Any]], subject: str, revoked: bool, expired: bool
    ) -> list[dict[str, Any]]:
        """``subject``'s items, newest first, with ``expired`` as of now; revoked and expired
        ones only when asked for (Clerk's default leaves them out)."""
        now_ms = self.clock() * 1000
        listed = []
        for item in items:
            expiration = item.get("expiration")
            item = {**item, "expired": expiration is not None and expiration <= now_ms}
            if item.get("subject") != subject:
                continue
            if (item.get("revoked") and not revoked) or (item["expired"] and not expired):
                continue
            listed.append(item)
        return sorted(listed, key=lambda i: i.get("created_at") or 0, reverse=True)

    async def _revoke_by_id(self, request: Request, body: Any) -> Response:
        token_id = request.path_params["token_id"]
        kind = "m2m_token" if request.url.path.startswith("/m2m_tokens/") else "api_key"
        token = self._by_id.get(token_id)
        if token is None or self._store[token].kind != kind:
            return _error(404, "not found", "resource_not_found")
        subject = self._store[token].resource.get("subject")
        caller: FakeMachine | None = self._machine_of(request)
        if caller is not None and subject != caller.id:
            return _error(404, "not found", "resource_not_found")  # another machine's token
        reason = body.get("revocation_reason") if isinstance(body, dict) else None
        self.revoke(token, reason)
        return JSONResponse(self._store[token].resource)
