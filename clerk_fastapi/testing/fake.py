"""``FakeClerk``: an in-memory Clerk instance for tests and the demo.

It signs tokens of every type with Clerk's exact shapes, serves the JWKS and the Backend API
endpoints the package calls, counts hits per endpoint and injects faults. It is an ASGI app:
use it in-process (``fake.clerk()`` routes the ``Clerk`` under test to it with no socket) or on a
real port (``fake.serve()``, ``python -m clerk_fastapi.testing serve``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import socket
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.fastapi_auth.app import Clerk
from clerk_fastapi.kinds._jwt import (
    CATEGORY_JWT_TEMPLATE,
    CATEGORY_M2M,
    CATEGORY_SESSION,
)
from clerk_fastapi.settings import ClerkSettings
from clerk_fastapi.testing.keys import SigningKey

Endpoint = Literal[
    "jwks",
    "m2m_verify",
    "api_key_verify",
    "oauth_verify",
    "m2m_create",
    "m2m_list",
    "m2m_revoke",
    "api_key_create",
    "api_key_list",
    "api_key_revoke",
]
FaultMode = Literal["down", "slow", "status", "malformed"]
_ALNUM = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _hex_id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Fault:
    mode: FaultMode
    status: int = 500
    delay: float = 0.0
    retry_after: float | None = None
    remaining: int | None = None  # None: until cleared


@dataclass
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class _Record:
    kind: Literal["m2m_token", "api_key", "oauth_token"]
    resource: dict[str, Any]
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class FakeClerk:
    """A complete stand-in for one Clerk instance.

    ``clock`` (a callable like ``time.time``, e.g. ``FrozenClock``) dates every minted token and
    every expiry check; ``fake.clerk()`` shares it with the ``Clerk`` under test.
    """

    API_HOST = "clerk-api.localhost"

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        kid: str = "ins_test1",
        frontend_api: str = "clerk.fake-clerk.test",
        authorized_party: str = "https://app.test",
        signing_key: SigningKey | None = None,
        key_pool_index: int | None = 0,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.frontend_api = frontend_api
        self.issuer = f"https://{frontend_api}"
        self.authorized_party = authorized_party
        self.secret_key = "sk_test_" + _random(40)
        self.machine_secret_key = "ak_" + _random(40)
        self.publishable_key = "pk_test_" + base64.b64encode(
            f"{frontend_api}$".encode()
        ).decode().rstrip("=")
        self.instance_id = kid
        self.signing_key = signing_key or SigningKey.generate(kid, pool_index=key_pool_index)
        self.keys: list[SigningKey] = [self.signing_key]
        self.jwks_override: Any = None
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.faults: dict[str, Fault] = {}
        self.api_url = f"http://{self.API_HOST}"
        self._store: dict[str, _Record] = {}
        self._by_id: dict[str, str] = {}
        self.default_machine_id = "mch_" + _random(27)
        self.app = Starlette(routes=self._routes())

    # -- keys -----------------------------------------------------------------------------------

    def jwks(self) -> Any:
        if self.jwks_override is not None:
            return self.jwks_override
        return {"keys": [key.public_jwk() for key in self.keys]}

    def rotate_key(self, *, keep_old: bool = True, pool_index: int | None = None) -> SigningKey:
        """Add a new signing key (new ``kid``) and sign with it from now on."""
        new = SigningKey.generate(f"ins_{_random(27)}", pool_index=pool_index)
        self.keys = [*self.keys, new] if keep_old else [new]
        self.signing_key = new
        return new

    # -- faults and counters --------------------------------------------------------------------

    def fail(
        self,
        endpoint: Endpoint | Literal["*"],
        mode: FaultMode = "status",
        *,
        status: int = 500,
        delay: float = 0.0,
        retry_after: float | None = None,
        times: int | None = None,
    ) -> None:
        """Make an endpoint misbehave: ``down`` (connection error), ``slow`` (``delay`` seconds,
        then a normal answer), ``status`` (e.g. 429 with ``retry_after``, 500), ``malformed``
        (a 200 whose body is not JSON). ``times`` limits it to the next N requests."""
        self.faults[endpoint] = Fault(mode, status, delay, retry_after, times)

    def heal(self, endpoint: Endpoint | Literal["*"] | None = None) -> None:
        if endpoint is None:
            self.faults.clear()
        else:
            self.faults.pop(endpoint, None)

    def reset_counters(self) -> None:
        self.hits.clear()
        self.requests.clear()

    # -- wiring ---------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    def settings(self, **overrides: Any) -> ClerkSettings:
        values: dict[str, Any] = {
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "api_url": self.api_url,
        }
        values.update(overrides)
        return ClerkSettings(**values)

    def clerk(self, **overrides: Any) -> Clerk:
        """A ``Clerk`` wired to this fake in-process (no socket), sharing its clock."""
        transport = None if overrides.pop("use_network", False) else self.transport()
        return Clerk(self.settings(**overrides), transport=transport, clock=self.clock)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run on a real loopback port (uvicorn in a thread); yields the base URL."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        actual_port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        previous = self.api_url
        self.api_url = f"http://{host}:{actual_port}"
        try:
            yield self.api_url
        finally:
            self.api_url = previous
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

    # -- minting --------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def sign(
        self,
        payload: dict[str, Any] | bytes,
        header: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
    ) -> str:
        """Sign any payload/header with the current key (or ``key``): for hand-made tokens."""
        signer = key or self.signing_key
        full = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT"}
        if header is not None:
            full.update(header)
            full = {k: v for k, v in full.items() if v is not None}
        return signer.sign(payload, full)

    def session_claims(
        self,
        user_id: str = "user_2test",
        *,
        session_id: str | None = None,
        org_id: str | None = None,
        org_slug: str | None = None,
        role: str | None = None,
        permissions: list[str] | None = None,
        features: list[str] | None = None,
        plans: list[str] | None = None,
        pending: bool = False,
        expires_in: float = 60,
        issued_ago: float = 0,
        azp: str | None = None,
        fva: tuple[int, int] | None = (0, -1),
        version: Literal[1, 2] = 2,
        **claims: Any,
    ) -> dict[str, Any]:
        now = self._now() - int(issued_ago)
        payload: dict[str, Any] = {
            "azp": azp if azp is not None else self.authorized_party,
            "exp": now + expires_in,
            "iat": now,
            "iss": self.issuer,
            "nbf": now - 10,
            "sid": session_id or "sess_" + _random(27),
            "sub": user_id,
        }
        if isinstance(payload["exp"], float) and payload["exp"].is_integer():
            payload["exp"] = int(payload["exp"])
        if version == 2:
            payload["v"] = 2
            payload["sts"] = "pending" if pending else "active"
            if fva is not None:
                payload["fva"] = list(fva)
            entries = list(features or [])
            if org_id:
                org: dict[str, Any] = {"id": org_id, "slg": org_slug or org_id.lower()}
                if role:
                    org["rol"] = role.removeprefix("org:")
                per, fpm, org_features = _encode_permissions(permissions or [])
                for feature in org_features:
                    if f"o:{feature}" not in entries:
                        entries.append(f"o:{feature}")
                if per:
                    org["per"] = ",".join(per)
                    org_feature_order = [
                        e.split(":", 1)[1] for e in entries if "o" in e.split(":", 1)[0]
                    ]
                    org["fpm"] = ",".join(str(fpm.get(f, 0)) for f in org_feature_order)
                payload["o"] = org
            if entries:
                payload["fea"] = ",".join(entries)
            if plans:
                payload["pla"] = ",".join(plans)
        else:
            if pending:
                payload["sts"] = "pending"
            if org_id:
                payload.update(
                    org_id=org_id,
                    org_slug=org_slug or org_id.lower(),
                    org_role=role if role is None or role.startswith("org:") else f"org:{role}",
                    org_permissions=list(permissions or []),
                )
        payload.update(claims)
        return {k: v for k, v in payload.items() if v is not None}

    def session_token(
        self,
        user_id: str = "user_2test",
        *,
        org: str | None = None,
        header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
        **options: Any,
    ) -> str:
        """A Clerk session token (v2 claims by default). Any claim can be overridden by keyword;
        ``org=`` is a shortcut for ``org_id=``. ``expires_in``, ``issued_ago``, ``pending``,
        ``role``, ``permissions`` (``org:feature:perm``), ``features``, ``plans`` shape it."""
        if org is not None:
            options.setdefault("org_id", org)
        payload = self.session_claims(user_id, **options)
        return self.sign(payload, {"cat": CATEGORY_SESSION, **(header or {})}, key=key)

    def broken_session_token(
        self,
        kind: Literal[
            "expired", "not_yet_valid", "wrong_key", "wrong_azp", "wrong_cat", "bad_signature"
        ],
        user_id: str = "user_2test",
        **options: Any,
    ) -> str:
        """A session token that must be refused, and the reason Clerk gives for it."""
        if kind == "expired":
            return self.session_token(user_id, issued_ago=120, expires_in=60, **options)
        if kind == "not_yet_valid":
            now = self._now()
            return self.session_token(user_id, nbf=now + 120, **options)
        if kind == "wrong_key":
            evil = SigningKey(
                self.signing_key.kid, SigningKey.generate("evil", pool_index=15).private_key
            )
            return self.session_token(user_id, key=evil, **options)
        if kind == "wrong_azp":
            return self.session_token(user_id, azp="https://evil.test", **options)
        if kind == "wrong_cat":
            return self.session_token(user_id, header={"cat": CATEGORY_JWT_TEMPLATE}, **options)
        token = self.session_token(user_id, **options)
        head, _, sig = token.rpartition(".")
        flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
        return f"{head}.{flipped}"

    def oauth_token(
        self,
        format: Literal["jwt", "opaque"] = "jwt",
        *,
        scopes: list[str] | None = None,
        user_id: str = "user_2test",
        client_id: str | None = None,
        expires_in: int = 3600,
        typ: str = "at+jwt",
        **claims: Any,
    ) -> str:
        client = client_id or "client_" + _random(27)
        scopes = list(scopes or [])
        now = self._now()
        if format == "jwt":
            jti = _hex_id("oat_")
            payload = {
                "azp": self.authorized_party,
                "exp": now + expires_in,
                "iat": now,
                "iss": self.issuer,
                "nbf": now - 10,
                "sub": user_id,
                "client_id": client,
                "scope": " ".join(scopes),
                "jti": jti,
                **claims,
            }
            return self.sign(payload, {"typ": typ})
        token = "oat_" + _random(32)
        resource = {
            "object": "clerk_idp_oauth_access_token",
            "id": _hex_id("oat_"),
            "client_id": client,
            "subject": user_id,
            "scopes": scopes,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }
        self._remember(token, _Record("oauth_token", resource))
        return token

    def m2m_token(
        self,
        format: Literal["opaque", "jwt"] = "opaque",
        *,
        machine_id: str | None = None,
        scopes: list[str] | None = None,
        claims: dict[str, Any] | None = None,
        expires_in: int = 3600,
        category: str | None = CATEGORY_M2M,
    ) -> str:
        machine = machine_id or self.default_machine_id
        scopes = list(scopes or [])
        now = self._now()
        token_id = _hex_id("mt_")
        if format == "jwt":
            payload: dict[str, Any] = {
                "iss": self.issuer,
                "sub": machine,
                "aud": scopes,
                "exp": now + expires_in,
                "iat": now,
                "nbf": now - 10,
                "jti": token_id,
                "scopes": " ".join(scopes),
                **(claims or {}),
            }
            return self.sign(payload, {"cat": category} if category else None)
        token = "mt_" + _random(40)
        resource = self._m2m_resource(token_id, machine, scopes, claims, now, expires_in)
        self._remember(token, _Record("m2m_token", resource))
        return token

    def _m2m_resource(
        self,
        token_id: str,
        machine: str,
        scopes: list[str],
        claims: dict[str, Any] | None,
        now: int,
        expires_in: int | None,
    ) -> dict[str, Any]:
        return {
            "object": "machine_to_machine_token",
            "id": token_id,
            "subject": machine,
            "scopes": scopes,
            "claims": claims,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000 if expires_in else None,
            "last_used_at": None,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }

    def api_key(
        self,
        *,
        subject: str = "user_2test",
        scopes: list[str] | None = None,
        name: str = "test-key",
        claims: dict[str, Any] | None = None,
        description: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        now = self._now()
        token = "ak_" + _random(40)
        resource = self._api_key_resource(
            subject, scopes, name, claims, description, now, expires_in
        )
        self._remember(token, _Record("api_key", resource))
        return token

    def _api_key_resource(
        self,
        subject: str,
        scopes: list[str] | None,
        name: str,
        claims: dict[str, Any] | None,
        description: str | None,
        now: int,
        expires_in: int | None,
    ) -> dict[str, Any]:
        return {
            "object": "api_key",
            "id": _hex_id("ak_"),
            "type": "api_key",
            "name": name,
            "subject": subject,
            "scopes": list(scopes or []),
            "claims": claims,
            "revoked": False,
            "revocation_reason": None,
            "expired": False,
            "expiration": (now + expires_in) * 1000 if expires_in else None,
            "created_by": subject if subject.startswith("user_") else None,
            "description": description,
            "last_used_at": None,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        }

    def register_opaque(
        self,
        token: str,
        kind: Literal["m2m_token", "api_key", "oauth_token"],
        resource: dict[str, Any],
    ) -> None:
        """Make the verify endpoint answer 200 with ``resource`` (raw wire JSON) for ``token``."""
        self._remember(token, _Record(kind, dict(resource)))

    def revoke(self, token: str, reason: str | None = None) -> None:
        """Revoke an opaque token: its verify endpoint answers 404 from now on."""
        record = self._store[token]
        record.revoked = True
        record.resource["revoked"] = True
        record.resource["revocation_reason"] = reason

    def resource(self, token: str) -> dict[str, Any]:
        return self._store[token].resource

    def _remember(self, token: str, record: _Record) -> None:
        self._store[token] = record
        if isinstance(record.resource.get("id"), str):
            self._by_id[record.resource["id"]] = token

    # -- the ASGI app ---------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route("/v1/jwks", self._endpoint("jwks", self._jwks), methods=["GET"]),
            Route(
                "/m2m_tokens/verify",
                self._endpoint("m2m_verify", self._verify("m2m_token", "token")),
                methods=["POST"],
            ),
            Route(
                "/api_keys/verify",
                self._endpoint("api_key_verify", self._verify("api_key", "secret")),
                methods=["POST"],
            ),
            Route(
                "/oauth_applications/access_tokens/verify",
                self._endpoint("oauth_verify", self._verify("oauth_token", "access_token")),
                methods=["POST"],
            ),
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
        ]

    def _endpoint(
        self, name: str, handler: Callable[[Request, Any], Any]
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.hits[name] += 1
            raw = await request.body()
            try:
                import json

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
            fault = self.faults.get(name) or self.faults.get("*")
            if fault is not None:
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults = {k: v for k, v in self.faults.items() if v is not fault}
                if fault.mode == "down":
                    raise httpx.ConnectError("fake Clerk is down")
                if fault.mode == "slow":
                    await asyncio.sleep(fault.delay)
                elif fault.mode == "malformed":
                    return Response("<html>not json", media_type="text/html")
                else:
                    headers = (
                        {"Retry-After": str(int(fault.retry_after))}
                        if fault.retry_after is not None
                        else {}
                    )
                    return JSONResponse(
                        {
                            "errors": [
                                {
                                    "message": "fault injected",
                                    "long_message": "fault injected",
                                    "code": "fault",
                                }
                            ]
                        },
                        status_code=fault.status,
                        headers=headers,
                    )
            if not self._authorised(request, name):
                return _error(401, "Invalid secret key", "clerk_key_invalid")
            result: Response = await handler(request, body)
            return result

        return endpoint

    def _authorised(self, request: Request, name: str) -> bool:
        auth = request.headers.get("authorization", "")
        allowed = {f"Bearer {self.secret_key}"}
        if name.startswith("m2m_"):
            # M2M calls take either key; _m2m_create refuses the instance key with Clerk's code.
            allowed.add(f"Bearer {self.machine_secret_key}")
        return auth in allowed

    async def _jwks(self, request: Request, body: Any) -> Response:
        return JSONResponse(self.jwks())

    def _verify(self, kind: str, body_key: str) -> Callable[[Request, Any], Any]:
        not_found = {
            "m2m_token": "Machine token not found",
            "api_key": "API key not found",
            "oauth_token": "OAuth token not found",
        }[kind]

        async def handler(request: Request, body: Any) -> Response:
            token = body.get(body_key) if isinstance(body, dict) else None
            record = self._store.get(token) if isinstance(token, str) else None
            if record is None or record.kind != kind or record.revoked:
                return _error(404, not_found, "resource_not_found")
            resource = record.resource
            expiration = resource.get("expiration")
            if expiration is not None and expiration <= self.clock() * 1000:
                return _error(404, not_found, "resource_not_found")
            return JSONResponse(resource)

        return handler

    def _by_machine_key(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.machine_secret_key}"

    async def _m2m_create(self, request: Request, body: Any) -> Response:
        if not self._by_machine_key(request):
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
        machine = self.default_machine_id
        scopes: list[str] = []
        if token_format == "jwt":
            # Clerk does not store JWT tokens: nothing to list, verify remotely or revoke.
            token = self.m2m_token(
                "jwt",
                machine_id=machine,
                scopes=scopes,
                claims=claims,
                expires_in=expires_in or 3600,
            )
            from clerk_fastapi.jose.compact import parse_compact

            token_id = parse_compact(token).payload["jti"]
            resource = self._m2m_resource(
                token_id, machine, scopes, claims, now, expires_in or 3600
            )
            return JSONResponse({**resource, "token": token})
        if min_ttl is not None:
            reusable = self._reusable_m2m(machine, claims, now + min_ttl)
            if reusable is not None:
                return JSONResponse({**self._store[reusable].resource, "token": reusable})
        token = "mt_" + _random(40)
        resource = self._m2m_resource(_hex_id("mt_"), machine, scopes, claims, now, expires_in)
        self._remember(token, _Record("m2m_token", resource))
        return JSONResponse({**resource, "token": token})

    def _reusable_m2m(self, machine: str, claims: Any, alive_until: int) -> str | None:
        """An opaque token of ``machine`` with the same claims, valid until ``alive_until``."""
        for token, record in self._store.items():
            resource = record.resource
            expiration = resource.get("expiration")
            if (
                record.kind == "m2m_token"
                and not record.revoked
                and resource.get("subject") == machine
                and resource.get("claims") == claims
                and (expiration is None or expiration >= alive_until * 1000)
            ):
                return token
        return None

    async def _m2m_list(self, request: Request, body: Any) -> Response:
        subject = request.query_params.get("subject")
        if not subject:
            return _error(422, "subject is required", "form_param_missing")
        if self._by_machine_key(request) and subject != self.default_machine_id:
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
        token = "ak_" + _random(40)
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
        self._remember(token, _Record("api_key", resource))
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
        if self._by_machine_key(request) and subject != self.default_machine_id:
            return _error(404, "not found", "resource_not_found")  # another machine's token
        reason = body.get("revocation_reason") if isinstance(body, dict) else None
        self.revoke(token, reason)
        return JSONResponse(self._store[token].resource)


def _error(status: int, message: str, code: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "long_message": message, "code": code}]},
        status_code=status,
    )


def _optional_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _page(items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
    try:
        limit = int(request.query_params.get("limit", "10"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        limit, offset = 10, 0
    return items[offset : offset + limit]


def _encode_permissions(permissions: list[str]) -> tuple[list[str], dict[str, int], list[str]]:
    """``org:feature:perm`` names -> (``per`` list, feature -> bitmask, org features in order)."""
    per: list[str] = []
    masks: dict[str, int] = {}
    features: list[str] = []
    for permission in permissions:
        parts = permission.removeprefix("org:").split(":")
        if len(parts) != 2:
            raise ValueError(
                f"v2 session permissions look like org:<feature>:<perm>, not {permission!r}"
            )
        feature, name = parts
        if name not in per:
            per.append(name)
        if feature not in masks:
            masks[feature] = 0
            features.append(feature)
        masks[feature] |= 1 << per.index(name)
    return per, masks, features
