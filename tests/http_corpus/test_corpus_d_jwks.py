"""Section 5.D: kid and JWKS handling (cases 57-71)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from harness import (
    T0_HEADER,
    Harness,
    assert_401_it,
    assert_503,
    b64,
    t0_payload,
)
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from clerk_fastapi import Clerk
from clerk_fastapi.testing import FakeClerk, SigningKey

pytestmark = pytest.mark.anyio


async def test_57_unknown_kid(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload())
    assert_401_it(await h.get("/s", token), token)
    assert h.fake.hits["jwks"] == 1


async def test_58_random_kids_cannot_storm_the_jwks(h: Harness) -> None:
    assert (await h.get("/s", h.t0)).status_code == 200
    for _ in range(100):
        token = h.sign({**T0_HEADER, "kid": "ins_" + secrets.token_hex(8)}, t0_payload())
        assert_401_it(await h.get("/s", token))
        h.clock.advance(0.1)  # 100 requests within 10 s
    assert h.fake.hits["jwks"] <= 3


async def test_59_single_flight_on_cold_cache(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload())
    async with h.client() as client:
        responses = await asyncio.gather(
            *(client.get("/s", headers={"Authorization": f"Bearer {token}"}) for _ in range(50))
        )
    for response in responses:
        assert_401_it(response, token)
    assert h.fake.hits["jwks"] == 1


async def test_60_no_kid(h: Harness) -> None:
    token = h.sign({"alg": "RS256", "typ": "JWT"}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("kid", [123, ["ins_test1"], {"k": "v"}, None, True])
async def test_61_kid_types(h: Harness, kid: Any) -> None:
    header = {**T0_HEADER, "kid": kid}
    token = h.sign(header, t0_payload())
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../etc/passwd",
        "/dev/zero",
        "file:///etc/passwd",
        "' OR '1'='1",
        "*)(uid=*",
        "{{7*7}}",
        "${jndi:ldap://127.0.0.1/x}",
    ],
)
async def test_62_63_hostile_kids(h: Harness, kid: str) -> None:
    token = h.sign({**T0_HEADER, "kid": kid}, t0_payload())
    response = await h.get("/s", token)
    assert_401_it(response, token)
    assert kid not in response.text


async def test_64_very_long_kid(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "k" * 10_000}, t0_payload())
    assert_401_it(await h.get("/s", token), token)
    assert h.fake.hits["jwks"] == 0  # refused before any key lookup


@pytest.mark.parametrize("kid", ["INS_TEST1", "ｉｎｓ_test1", "ins_test1\u0000", "ins_test1 "])
async def test_65_kid_variants_need_exact_match(h: Harness, kid: str) -> None:
    token = h.sign({**T0_HEADER, "kid": kid}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_66_rotation_picked_up_by_one_refetch(h: Harness) -> None:
    await h.clerk.warm_up()  # a fresh instance: start-up fetch only, so no cool-down is active
    k3 = h.fake.rotate_key(pool_index=3)
    token = h.sign({**T0_HEADER, "kid": k3.kid}, t0_payload(), k3)
    assert (await h.get("/s", token)).status_code == 200
    assert h.fake.hits["jwks"] == 2


@pytest.mark.parametrize("fault", ["down", "500", "timeout"])
async def test_67_jwks_unreachable_before_first_fetch(h: Harness, fault: str) -> None:
    if fault == "down":
        h.fake.fail("jwks", "down")
    elif fault == "500":
        h.fake.fail("jwks", "status", status=500)
    else:
        h.fake.fail("jwks", "slow", delay=5)
    started = time.monotonic()
    assert_503(await h.get("/s", h.t0), h.t0)
    assert time.monotonic() - started < 1.0 + 0.5  # http_timeout is 1 s in this harness


async def test_68_stale_keys_serve_during_outage(h: Harness) -> None:
    assert (await h.get("/s", h.t0)).status_code == 200
    h.fake.fail("jwks", "down")
    h.clock.advance(400)  # past the 300 s TTL, inside the stale window
    fresh = h.sign(T0_HEADER, t0_payload(iat=h.clock() - 1, exp=h.clock() + 60))
    assert (await h.get("/s", fresh)).status_code == 200
    unknown = h.sign({**T0_HEADER, "kid": "ins_other"}, t0_payload(exp=h.clock() + 60))
    response = await h.get("/s", unknown)
    assert response.status_code in (401, 503)


async def test_69_redirects_are_not_followed() -> None:
    h = Harness()
    other = FakeClerk(kid="ins_test1", signing_key=h.k2)
    with other.serve() as other_url:
        redirect = Starlette(
            routes=[Route("/v1/jwks", lambda _r: RedirectResponse(f"{other_url}/v1/jwks", 302))]
        )
        clerk = Clerk(h.fake.settings(), transport=httpx.ASGITransport(app=redirect), clock=h.clock)
        h.app.state.clerk = clerk
        token = h.sign(T0_HEADER, t0_payload(), h.k2)
        response = await h.get("/s", token)
        assert response.status_code in (401, 503)
    assert other.hits["jwks"] == 0


@pytest.mark.parametrize(
    "body", ["not json", {"keys": []}, {"keys": "x"}], ids=["not-json", "empty", "not-a-list"]
)
async def test_70_broken_jwks_bodies(h: Harness, body: Any) -> None:
    h.fake.jwks_override = body
    response = await h.get("/s", h.t0)
    assert response.status_code in (401, 503)


async def test_70_unsafe_keys_never_verify(h: Harness) -> None:
    jwk = h.k1.public_jwk()
    oct_key = secrets.token_bytes(32)
    oct_token_input = (
        f"{b64(json.dumps({**T0_HEADER, 'alg': 'HS256'}))}.{b64(json.dumps(t0_payload()))}"
    )
    mac = hmac.new(oct_key, oct_token_input.encode(), hashlib.sha256).digest()
    oct_token = f"{oct_token_input}.{b64(mac)}"
    weak = SigningKey("ins_test1", rsa.generate_private_key(65537, 1024))
    cases = [
        ({"keys": [{"kty": "oct", "kid": "ins_test1", "k": b64(oct_key)}]}, oct_token),
        ({"keys": [weak.public_jwk()]}, h.sign(T0_HEADER, t0_payload(), weak)),
        ({"keys": [{**jwk, "e": "AQ"}]}, _e1_forgery(h)),
        ({"keys": [{**jwk, "use": "enc"}]}, h.t0),
    ]
    for jwks, token in cases:
        fresh = Harness()
        fresh.fake.jwks_override = jwks
        response = await fresh.get("/s", token)
        assert response.status_code in (401, 503), jwks


async def test_70_duplicate_kid_with_different_keys(h: Harness) -> None:
    other = h.k2.public_jwk()
    h.fake.jwks_override = {"keys": [h.k1.public_jwk(), other]}
    assert (await h.get("/s", h.sign(T0_HEADER, t0_payload(), h.k2))).status_code != 200
    assert (await h.get("/s", h.t0)).status_code != 200  # the whole kid is refused


def _e1_forgery(h: Harness) -> str:
    """With e = 1 a "signature" is just the PKCS#1 v1.5 encoding of the hash."""
    signing_input = f"{b64(json.dumps(T0_HEADER))}.{b64(json.dumps(t0_payload()))}"
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    digest = hashlib.sha256(signing_input.encode()).digest()
    t = digest_info + digest
    em = b"\x00\x01" + b"\xff" * (256 - len(t) - 3) + b"\x00" + t
    return f"{signing_input}.{b64(em)}"


async def test_71_jwks_cache_is_per_instance(h: Harness) -> None:
    other_instance = FakeClerk(clock=h.clock, kid="ins_test1", key_pool_index=5)
    token = other_instance.sign(T0_HEADER, t0_payload())
    assert (await h.get("/s", h.t0)).status_code == 200
    assert_401_it(await h.get("/s", token), token)
