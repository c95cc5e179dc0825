"""Harness for security.md section 5: K1/K2 keys, T0, the routes /s /m2m /oauth /any /admin."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk
from clerk_fastapi.jose.compact import b64url_encode
from clerk_fastapi.testing import FakeClerk, FrozenClock, SigningKey, sign_compact

NOW = 1_790_000_000
ISS = "https://clerk.fake-clerk.test"
AZP = "https://app.test"
PERMISSION = "org:admin:access"
T0_HEADER = {"alg": "RS256", "kid": "ins_test1", "typ": "JWT"}


def t0_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": ISS,
        "sub": "user_2test",
        "sid": "sess_2test",
        "azp": AZP,
        "iat": NOW - 5,
        "nbf": NOW - 10,
        "exp": NOW + 60,
    }
    for key, value in changes.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


class Harness:
    def __init__(self, **settings: Any) -> None:
        self.clock = FrozenClock(NOW)
        self.fake = FakeClerk(clock=self.clock, kid="ins_test1")
        self.k1: SigningKey = self.fake.signing_key
        self.k2 = SigningKey.generate("ins_test1", pool_index=7)
        options: dict[str, Any] = {
            "authorized_parties": [AZP],
            "session_cookie": True,
            "http_timeout": 1.0,
        }
        options.update(settings)
        self.clerk: Clerk = self.fake.clerk(**options)
        self.app = build_app(self.clerk)
        self.t0 = self.sign(T0_HEADER, t0_payload())

    def sign(
        self,
        header: dict[str, Any] | bytes,
        payload: dict[str, Any] | bytes,
        key: SigningKey | None = None,
    ) -> str:
        return sign_compact((key or self.k1).private_key, header, payload)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t")

    async def get(
        self,
        path: str,
        token: str | None = None,
        *,
        headers: Iterable[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        all_headers = list(headers or [])
        if token is not None:
            all_headers.append(("Authorization", f"Bearer {token}"))
        async with self.client() as client:
            return await client.request(
                kwargs.pop("method", "GET"), path, headers=all_headers, **kwargs
            )


def build_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = clerk

    def ok(auth: Any) -> dict[str, str]:
        return {"token_type": auth.token_type}

    @app.api_route("/s", methods=["GET", "POST"])
    async def s(auth: Any = Depends(Auth())) -> dict[str, str]:
        return ok(auth)

    @app.get("/m2m")
    async def m2m(auth: Any = Depends(Auth(accepts="m2m_token"))) -> dict[str, str]:
        return ok(auth)

    @app.get("/oauth")
    async def oauth(auth: Any = Depends(Auth(accepts="oauth_token"))) -> dict[str, str]:
        return ok(auth)

    @app.get("/apikey")
    async def apikey(auth: Any = Depends(Auth(accepts="api_key"))) -> dict[str, str]:
        return ok(auth)

    @app.get("/any")
    async def any_route(auth: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
        return ok(auth)

    @app.get("/admin")
    async def admin(auth: Any = Depends(Auth(permissions=[PERMISSION]))) -> dict[str, str]:
        return ok(auth)

    return app


# -- the shorthand outcomes of section 5 --------------------------------------------------------

_ERROR = re.compile(r'error="([^"]*)"')


def challenge(response: httpx.Response) -> str:
    return response.headers.get("www-authenticate", "")


def assert_negative(response: httpx.Response, *secrets: str) -> None:
    """What every negative case must also satisfy."""
    assert not 200 <= response.status_code < 300, response.text
    assert response.status_code != 500
    value = challenge(response)
    assert value.isascii() and "\r" not in value and "\n" not in value
    blob = response.text + json.dumps(dict(response.headers))
    for secret in secrets:
        if secret and len(secret) >= 8:
            assert secret not in blob, "token text echoed"
            for segment in secret.split("."):
                if len(segment) >= 16:
                    assert segment not in blob, "token segment echoed"


def assert_401_it(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 401, response.text
    value = challenge(response)
    assert value.startswith("Bearer")
    assert _ERROR.findall(value) == ["invalid_token"], value
    assert_negative(response, *secrets)


def assert_401_na(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 401, response.text
    value = challenge(response)
    assert value.startswith("Bearer") and "error=" not in value, value
    assert_negative(response, *secrets)


def assert_400_ir(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 400, response.text
    assert _ERROR.findall(challenge(response)) == ["invalid_request"]
    assert_negative(response, *secrets)


def assert_400_or_401(response: httpx.Response, *secrets: str) -> None:
    if response.status_code == 400:
        assert_400_ir(response, *secrets)
    else:
        assert_401_it(response, *secrets)


def assert_403_is(response: httpx.Response, scope: str) -> None:
    assert response.status_code == 403, response.text
    value = challenge(response)
    assert _ERROR.findall(value) == ["insufficient_scope"]
    assert f'scope="{scope}"' in value


def assert_503(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "invalid_token" not in response.text
    assert_negative(response, *secrets)


def b64(data: bytes | str) -> str:
    return b64url_encode(data.encode() if isinstance(data, str) else data)


def raw_json_token(h: Harness, header: str, payload: str, key: SigningKey | None = None) -> str:
    """Sign exact JSON text (for NaN, duplicates, deep nesting...)."""
    return h.sign(header.encode(), payload.encode(), key)


Mutator = Callable[[str], str]
