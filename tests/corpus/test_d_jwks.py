"""Section 5.D: kid and JWKS handling (cases 57-71)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from corpus_kit import (
    HANG,
    T0_HEADER,
    Harness,
    Ledger,
    assert_401_it,
    assert_503,
    assert_ok,
    b64,
    t0_payload,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from servers import serve_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from clerk_fastapi import Clerk
from clerk_fastapi.errors import Reason
from clerk_fastapi.testing import FakeClerk, SigningKey

pytestmark = pytest.mark.anyio

KID_MISMATCH = Reason.JWK_KID_MISMATCH
MALFORMED = Reason.TOKEN_INVALID


async def test_case_57_unknown_kid_fetches_at_most_once(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload())
    assert_401_it(await h.get("/s", token), KID_MISMATCH)
    assert h.fake.hits["jwks"] == 1


async def test_case_58_random_kids_cannot_storm_the_jwks(h: Harness) -> None:
    assert_ok(await h.get("/s", h.t0))
    for _ in range(100):  # 100 requests within 10 s
        token = h.sign({**T0_HEADER, "kid": "ins_" + secrets.token_hex(8)}, t0_payload())
        assert_401_it(await h.get("/s", token), KID_MISMATCH)
        h.clock.advance(0.1)
    cooldown = h.clerk.settings.jwks_refetch_cooldown
    assert h.fake.hits["jwks"] <= 1 + math.ceil(10 / cooldown)


async def test_case_59_single_flight_on_a_cold_cache(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload())
    for response in await h.many("/s", token, 50):
        assert_401_it(response, KID_MISMATCH)
    assert h.fake.hits["jwks"] == 1


async def test_case_60_no_kid_in_jwks_mode(h: Harness) -> None:
    # Clerk looks the missing kid up and reports no matching key.
    token = h.sign({"alg": "RS256", "typ": "JWT"}, t0_payload())
    assert_401_it(await h.get("/s", token), KID_MISMATCH)


async def test_case_60_no_kid_in_pem_mode(h: Harness, make_harness: Callable[..., Harness]) -> None:
    # Policy: PEM mode has exactly one key and Clerk does not compare the kid there.
    pem = make_harness(jwt_key=h.k1.public_pem(), secret_key=None)
    token = pem.sign({"alg": "RS256", "typ": "JWT"}, t0_payload(), h.k1)
    assert_ok(await pem.get("/s", token))
    assert_401_it(await pem.get("/s", pem.sign(T0_HEADER, t0_payload(), pem.k2)))
    assert sum(pem.fake.hits.values()) == 0  # networkless


@pytest.mark.parametrize("kid", [123, ["ins_test1"], {"k": "v"}, None, True])
async def test_case_61_kid_of_the_wrong_type(h: Harness, kid: Any) -> None:
    token = h.sign({**T0_HEADER, "kid": kid}, t0_payload())
    # Clerk's reason (it finds no such key); we refuse it without fetching the JWKS.
    assert_401_it(await h.get("/s", token), KID_MISMATCH)
    assert h.fake.hits["jwks"] == 0


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
async def test_case_62_63_hostile_kids_are_only_dictionary_keys(h: Harness, kid: str) -> None:
    token = h.sign({**T0_HEADER, "kid": kid}, t0_payload())
    response = await h.get("/s", token)
    assert_401_it(response, KID_MISMATCH)
    assert kid not in response.text and "49" not in response.text
    assert h.fake.hits["jwks"] == 1  # the one lookup is our own JWKS; nothing else


async def test_case_64_ten_thousand_character_kid(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "k" * 10_000}, t0_payload())
    assert_401_it(await h.get("/s", token), KID_MISMATCH)
    assert h.fake.hits["jwks"] == 0  # refused before any key lookup


@pytest.mark.parametrize(
    "kid", ["INS_TEST1", "ｉｎｓ_test1", "ins_test1\u0000", "ins_test1 "], ids=repr
)
async def test_case_65_kid_must_match_exactly(h: Harness, kid: str) -> None:
    token = h.sign({**T0_HEADER, "kid": kid}, t0_payload())
    assert_401_it(await h.get("/s", token), KID_MISMATCH)


async def test_case_66_rotation_is_picked_up_by_one_refetch(h: Harness) -> None:
    await h.clerk.warm_up()  # the start-up fetch does not start the unknown-kid cool-down
    k3 = h.fake.rotate_key(pool_index=3)
    assert_ok(await h.get("/s", h.sign({**T0_HEADER, "kid": k3.kid}, t0_payload(), k3)))
    assert h.fake.hits["jwks"] == 2
    assert_ok(await h.get("/s", h.t0))  # K1 still served beside K3


@pytest.mark.parametrize("fault", ["down", "500", "timeout"])
async def test_case_67_jwks_unreachable_before_any_fetch(h: Harness, fault: str) -> None:
    if fault == "down":
        h.fake.fail("jwks", "down")
    elif fault == "500":
        h.fake.fail("jwks", "status", status=500)
    else:
        h.fake.fail("jwks", "slow", delay=HANG)  # far longer than the 1 s http_timeout
    assert_503(await h.get("/s", h.t0))  # assert_negative bounds the time by the timeout


async def test_case_68_stale_keys_serve_during_an_outage(h: Harness) -> None:
    assert_ok(await h.get("/s", h.t0))
    h.fake.fail("jwks", "down")
    h.clock.advance(400)  # past the 300 s TTL, inside the stale window
    now = h.clock()
    assert_ok(await h.get("/s", h.sign(T0_HEADER, t0_payload(iat=now - 1, exp=now + 60))))
    unknown = h.sign({**T0_HEADER, "kid": "ins_other"}, t0_payload(iat=now - 1, exp=now + 60))
    # Policy (issue 25): the JWKS cannot be loaded, so an unknown kid cannot be decided (it may
    # be a key Clerk rotated in meanwhile): 503, every time, also within the cool-down (the
    # corpus allows 401-IT or 503; Clerk reports the failed load, not a kid mismatch).
    for _ in range(3):
        assert_503(await h.get("/s", unknown))


async def test_case_68_an_outage_costs_one_probe_per_cooldown(
    make_harness: Callable[..., Harness],
) -> None:
    timeout = 2.0
    h = make_harness(http_timeout=timeout)
    assert_ok(await h.get("/s", h.t0))
    h.fake.fail("jwks", "slow", delay=HANG)  # a hanging JWKS: each probe costs the http_timeout
    h.clock.advance(400)
    for i in range(5):  # 5 new tokens within one cool-down: only the first waits
        now = h.clock()
        token = h.sign(T0_HEADER, t0_payload(sid=f"sess_{i}", iat=now - 1, exp=now + 60))
        response = await h.get("/s", token)
        assert_ok(response)
        if i:  # waiting for a probe (even one still running) would take the whole timeout
            assert response.extensions["corpus_elapsed"] < timeout
        h.clock.advance(1)
    assert h.fake.hits["jwks"] == 2
    h.clock.advance(h.clerk.settings.jwks_refetch_cooldown)
    h.fake.heal()
    assert_ok(await h.get("/s", h.sign(T0_HEADER, t0_payload(iat=h.clock(), exp=h.clock() + 9))))
    assert h.fake.hits["jwks"] == 3  # probed again after the cool-down, and recovered


async def test_case_69_jwks_redirect_to_another_host_is_not_followed(
    h: Harness, ledger: Ledger
) -> None:
    other = FakeClerk(kid="ins_test1", signing_key=h.k2)
    ledger.fakes.append(other)
    with other.serve() as other_url:

        async def redirect(_: Request) -> RedirectResponse:
            return RedirectResponse(f"{other_url}/v1/jwks", 302)

        with serve_app(Starlette(routes=[Route("/v1/jwks", redirect)])) as redirector:
            settings = h.fake.settings(api_url=redirector, http_timeout=1.0)
            h.app.state.clerk = Clerk(settings, clock=h.clock)  # real sockets, no transport
            assert_503(await h.get("/s", h.sign(T0_HEADER, t0_payload(), h.k2)))
            await h.app.state.clerk.aclose()
    assert sum(other.hits.values()) == 0


@pytest.mark.parametrize(
    "body", ["not json", {"keys": []}, {"keys": "x"}], ids=["not-json", "empty", "not-a-list"]
)
async def test_case_70_broken_jwks_bodies(h: Harness, body: Any) -> None:
    h.fake.jwks_override = body
    assert_503(await h.get("/s", h.t0))


def _e1_forgery() -> str:
    """With e = 1 a "signature" is just the PKCS#1 v1.5 encoding of the hash: anyone forges it."""
    signing_input = f"{b64(json.dumps(T0_HEADER))}.{b64(json.dumps(t0_payload()))}"
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    t = digest_info + hashlib.sha256(signing_input.encode()).digest()
    em = b"\x00\x01" + b"\xff" * (256 - len(t) - 3) + b"\x00" + t
    return f"{signing_input}.{b64(em)}"


def _oct_case() -> tuple[dict[str, Any], str]:
    secret = secrets.token_bytes(32)
    signing_input = (
        f"{b64(json.dumps({**T0_HEADER, 'alg': 'HS256'}))}.{b64(json.dumps(t0_payload()))}"
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    jwks = {"keys": [{"kty": "oct", "kid": "ins_test1", "k": b64(secret), "alg": "HS256"}]}
    return jwks, f"{signing_input}.{b64(mac)}"


@pytest.mark.parametrize("kind", ["oct", "rsa-1024", "e-1", "use-enc"])
async def test_case_70_unsafe_keys_never_verify(
    make_harness: Callable[..., Harness], kind: str
) -> None:
    h = make_harness()
    jwk = h.k1.public_jwk()
    if kind == "oct":
        jwks, token = _oct_case()
    elif kind == "rsa-1024":
        weak = SigningKey("ins_test1", rsa.generate_private_key(65537, 1024))
        jwks, token = {"keys": [weak.public_jwk()]}, h.sign(T0_HEADER, t0_payload(), weak)
    elif kind == "e-1":
        jwks, token = {"keys": [{**jwk, "e": "AQ"}]}, _e1_forgery()
    else:
        jwks, token = {"keys": [{**jwk, "use": "enc"}]}, h.t0
    h.fake.jwks_override = jwks
    response = await h.get("/s", token)
    # The key is looked up first (Clerk's order); the only key is refused, so the set holds no
    # usable key: the key source is broken.
    assert_503(response)


async def test_case_70_duplicate_kid_with_different_keys(h: Harness) -> None:
    # Policy (docs/security.md): a kid served twice with different keys is refused entirely
    # (never guess). Here it is the only kid, so the set holds no usable key: a broken key
    # source, 503 for K2's token and for the genuine T0 alike (never 200, never a guess).
    h.fake.jwks_override = {"keys": [h.k1.public_jwk(), h.k2.public_jwk()]}
    for token in (h.sign(T0_HEADER, t0_payload(), h.k2), h.t0):
        assert_503(await h.get("/s", token))


async def test_case_70_duplicate_kid_beside_a_good_key(h: Harness) -> None:
    k3 = SigningKey.generate("ins_k3", pool_index=3)
    h.fake.jwks_override = {"keys": [h.k1.public_jwk(), h.k2.public_jwk(), k3.public_jwk()]}
    assert_401_it(await h.get("/s", h.t0), KID_MISMATCH)
    assert_401_it(await h.get("/s", h.sign(T0_HEADER, t0_payload(), h.k2)), KID_MISMATCH)
    assert_ok(await h.get("/s", h.sign({**T0_HEADER, "kid": "ins_k3"}, t0_payload(), k3)))


async def test_case_71_jwks_cache_is_scoped_per_instance(
    make_harness: Callable[..., Harness],
) -> None:
    # Two instances in one process, same API URL, same kid string, different keys.
    a, b = make_harness(), make_harness()
    b.fake.signing_key = b.fake.keys[0] = SigningKey("ins_test1", b.k2.private_key)
    b_token = b.fake.sign(t0_payload())
    assert b.fake.api_url == a.fake.api_url and b_token.split(".")[0] == a.t0.split(".")[0]
    for _ in range(2):  # both orders of first use, both caches warm
        assert_ok(await a.get("/s", a.t0))
        assert_401_it(await a.get("/s", b_token), Reason.TOKEN_INVALID_SIGNATURE)
        assert_ok(await b.get("/s", b_token))
        assert_401_it(await b.get("/s", a.t0), Reason.TOKEN_INVALID_SIGNATURE)
