"""Section 5.B: algorithm and signature (cases 15-42)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from typing import Any

import pytest
from conftest_vectors import rs256_vectors
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID
from harness import T0_HEADER, Harness, assert_400_or_401, assert_401_it, b64, t0_payload

from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


def hs256(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def split(token: str) -> tuple[str, str, str]:
    head, payload, sig = token.split(".")
    return head, payload, sig


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_15_16_alg_none_empty_signature(h: Harness, alg: str) -> None:
    token = f"{b64(json.dumps({'alg': alg, 'kid': 'ins_test1'}))}.{split(h.t0)[1]}."
    assert_401_it(await h.get("/s", token), token)


async def test_17_alg_none_with_original_signature(h: Harness) -> None:
    _, payload, sig = split(h.t0)
    token = f"{b64(json.dumps({'alg': 'none', 'kid': 'ins_test1'}))}.{payload}.{sig}"
    assert_401_it(await h.get("/s", token), token)


async def test_18_no_alg(h: Harness) -> None:
    token = h.sign({"kid": "ins_test1", "typ": "JWT"}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("alg", [None, "", ["RS256"], {"a": 1}, 256])
async def test_19_odd_alg_values(h: Harness, alg: Any) -> None:
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


def _public_pem(h: Harness) -> bytes:
    return h.k1.public_pem().encode()


@pytest.mark.parametrize("trailing_newline", [True, False])
async def test_20_hs256_with_public_pem(h: Harness, trailing_newline: bool) -> None:
    key = _public_pem(h) if trailing_newline else _public_pem(h).rstrip(b"\n")
    token = hs256({**T0_HEADER, "alg": "HS256"}, t0_payload(), key)
    assert_401_it(await h.get("/s", token), token)


async def test_21_hs256_with_der_public_key(h: Harness) -> None:
    der = h.k1.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = hs256({**T0_HEADER, "alg": "HS256"}, t0_payload(), der)
    assert_401_it(await h.get("/s", token), token)


async def test_22_hs256_with_other_key_forms(h: Harness) -> None:
    jwk = h.k1.public_jwk()
    numbers = h.k1.private_key.public_key().public_numbers()
    keys = [
        json.dumps(h.fake.jwks()).encode(),
        json.dumps(jwk).encode(),
        numbers.n.to_bytes(256, "big"),
        jwk["n"].encode(),
    ]
    for key in keys:
        token = hs256({**T0_HEADER, "alg": "HS256"}, t0_payload(), key)
        assert_401_it(await h.get("/s", token), token)


async def test_23_hs256_unknown_kid_empty_key(h: Harness) -> None:
    token = hs256({"alg": "HS256", "kid": "nope", "typ": "JWT"}, t0_payload(), b"")
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
async def test_24_key_alg_is_enforced(h: Harness, alg: str) -> None:
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_25_ps256(h: Harness) -> None:
    header = {**T0_HEADER, "alg": "PS256"}
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(t0_payload()))}"
    sig = h.k1.private_key.sign(
        signing_input.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    token = f"{signing_input}.{b64(sig)}"
    assert_401_it(await h.get("/s", token), token)


async def test_26_psychic_es256(h: Harness) -> None:
    header = {"alg": "ES256", "kid": "ins_test1", "typ": "JWT"}
    token = f"{b64(json.dumps(header))}.{b64(json.dumps(t0_payload()))}.{b64(bytes(64))}"
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256K", "RS256 ", "rs256", "RЅ256"])
async def test_27_lookalike_algs(h: Harness, alg: str) -> None:
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_28_missing_signature_segment(h: Harness) -> None:
    head, payload, _ = split(h.t0)
    assert_400_or_401(await h.get("/s", f"{head}.{payload}"))


async def test_29_empty_signature(h: Harness) -> None:
    head, payload, _ = split(h.t0)
    assert_401_it(await h.get("/s", f"{head}.{payload}."))


async def test_30_flipped_signature_byte(h: Harness) -> None:
    from clerk_fastapi.jose.compact import b64url_decode

    head, payload, sig = split(h.t0)
    raw = bytearray(b64url_decode(sig))
    raw[-1] ^= 1
    token = f"{head}.{payload}.{b64(bytes(raw))}"
    assert_401_it(await h.get("/s", token), token)


async def test_31_forged_payload(h: Harness) -> None:
    head, _, sig = split(h.t0)
    token = f"{head}.{b64(json.dumps(t0_payload(sub='user_admin')))}.{sig}"
    assert_401_it(await h.get("/s", token), token)


async def test_32_forged_header(h: Harness) -> None:
    _, payload, sig = split(h.t0)
    token = f"{b64(json.dumps({**T0_HEADER, 'x': 1}))}.{payload}.{sig}"
    assert_401_it(await h.get("/s", token), token)


async def test_33_wrong_key_same_kid(h: Harness) -> None:
    token = h.sign(T0_HEADER, t0_payload(), h.k2)
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("with_kid", [True, False])
async def test_34_embedded_jwk_is_ignored(h: Harness, with_kid: bool) -> None:
    assert (await h.get("/s", h.t0)).status_code == 200  # JWKS loaded once
    jwk = h.k2.public_jwk()
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "jwk": jwk}
    if with_kid:
        header["kid"] = "ins_test1"
    token = h.sign(header, t0_payload(), h.k2)
    assert_401_it(await h.get("/s", token), token)
    assert h.fake.hits["jwks"] <= 2  # at most the unknown-kid policy's one refetch


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_35_jku_and_x5u_are_never_fetched(h: Harness, member: str) -> None:
    listener = FakeClerk(kid="ins_test1", signing_key=h.k2)
    with listener.serve() as url:
        header = {**T0_HEADER, member: f"{url}/v1/jwks"}
        token = h.sign(header, t0_payload(), h.k2)
        assert_401_it(await h.get("/s", token), token)
    assert listener.hits["jwks"] == 0


async def test_36_x5c_is_ignored(h: Harness) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(h.k2.private_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(h.k2.private_key, hashes.SHA256())
    )
    import base64

    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    token = h.sign({**T0_HEADER, "x5c": x5c}, t0_payload(), h.k2)
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s + "=",  # 37 padding
        lambda s: s + "==",
        lambda s: (
            s.replace("-", "+").replace("_", "/") if ("-" in s or "_" in s) else s + "+"
        ),  # 38
        lambda s: s + "!!!!",  # 39
        lambda s: s[:100] + "%%%%" + s[100:],
        lambda s: s[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}.get(s[-1], "A"),  # 40
    ],
    ids=["pad1", "pad2", "std-alphabet", "bang", "percent", "unused-bits"],
)
async def test_37_to_40_malleable_signature_spellings(h: Harness, mutate: Any) -> None:
    head, payload, sig = split(h.t0)
    token = f"{head}.{payload}.{mutate(sig)}"
    assert token != h.t0
    assert_400_or_401(await h.get("/s", token))


async def test_41_wrong_signature_length(h: Harness) -> None:
    from clerk_fastapi.jose.compact import b64url_decode

    head, payload, sig = split(h.t0)
    raw = b64url_decode(sig)
    for variant in (b"\x00" + raw, raw[:255]):
        token = f"{head}.{payload}.{b64(variant)}"
        assert_401_it(await h.get("/s", token), token)


async def test_42_wycheproof_rs256_vectors_never_authenticate() -> None:
    seen = 0
    for public_jwk, cases in rs256_vectors():
        h = Harness()
        h.fake.jwks_override = {"keys": [public_jwk]}
        for tc_id, jws in cases:
            response = await h.get("/s", jws)
            assert_400_or_401(response, jws)  # tcId 45 is the empty string: 400
            assert tc_id != 45 or response.status_code == 400
            seen += 1
    assert seen >= 230  # tcIds 33-263
