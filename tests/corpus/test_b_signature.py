"""Section 5.B: algorithm and signature (cases 15-42)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from clerk_fixtures import VECTORS
from corpus_kit import (
    T0_HEADER,
    Harness,
    Ledger,
    assert_400_ir,
    assert_401_it,
    assert_ok,
    b64,
    t0_payload,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from clerk_fastapi.errors import Reason
from clerk_fastapi.testing import FakeClerk, sign_compact

pytestmark = pytest.mark.anyio

ALG = Reason.TOKEN_INVALID_ALGORITHM
SIGNATURE = Reason.TOKEN_INVALID_SIGNATURE
MALFORMED = Reason.TOKEN_INVALID
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def hs256(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def lenient_b64(segment: str) -> bytes:
    """What a permissive decoder makes of a segment (padding added, unused bits ignored)."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_case_15_16_alg_none_with_empty_signature(h: Harness, alg: str) -> None:
    payload = h.t0.split(".")[1]
    token = f"{b64(json.dumps({'alg': alg, 'kid': 'ins_test1'}))}.{payload}."
    assert_401_it(await h.get("/s", token))


async def test_case_17_alg_none_keeping_the_real_signature(h: Harness) -> None:
    _, payload, sig = h.t0.split(".")
    token = f"{b64(json.dumps({'alg': 'none', 'kid': 'ins_test1'}))}.{payload}.{sig}"
    assert_401_it(await h.get("/s", token), ALG)


async def test_case_18_no_alg(h: Harness) -> None:
    token = h.sign({"kid": "ins_test1", "typ": "JWT"}, t0_payload())
    assert_401_it(await h.get("/s", token), ALG)


@pytest.mark.parametrize("alg", [None, "", ["RS256"], {"a": 1}, 256])
async def test_case_19_alg_of_the_wrong_type(h: Harness, alg: Any) -> None:
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    assert_401_it(await h.get("/s", token), ALG)


def _hs256_keys(h: Harness) -> dict[str, bytes]:
    """Every public form of K1 that a confused verifier might use as an HMAC secret."""
    public = h.k1.private_key.public_key()
    pem = h.k1.public_pem().encode()
    jwk = h.k1.public_jwk()
    return {
        "20-pem": pem,
        "20-pem-no-newline": pem.rstrip(b"\n"),
        "21-der-spki": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "22a-jwks-json": json.dumps(h.fake.jwks()).encode(),
        "22b-jwk-json": json.dumps(jwk).encode(),
        "22c-modulus": public.public_numbers().n.to_bytes(256, "big"),
        "22d-n-string": jwk["n"].encode(),
    }


@pytest.mark.parametrize(
    "form",
    [
        "20-pem",
        "20-pem-no-newline",
        "21-der-spki",
        "22a-jwks-json",
        "22b-jwk-json",
        "22c-modulus",
        "22d-n-string",
    ],
)
async def test_case_20_21_22_hs256_keyed_with_the_public_key(h: Harness, form: str) -> None:
    token = hs256({**T0_HEADER, "alg": "HS256"}, t0_payload(), _hs256_keys(h)[form])
    assert_401_it(await h.get("/s", token), ALG)


async def test_case_23_hs256_unknown_kid_empty_key(h: Harness) -> None:
    token = hs256({"alg": "HS256", "kid": "nope", "typ": "JWT"}, t0_payload(), b"")
    # Clerk resolves the key before it looks at alg: no key, whatever the algorithm.
    assert_401_it(await h.get("/s", token), Reason.JWK_KID_MISMATCH)


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
async def test_case_24_the_keys_own_alg_is_enforced(h: Harness, alg: str) -> None:
    # A genuine K1 signature with the stronger hash: only the key's declared alg may be used.
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    # Clerk's reason: importing the RS256 key for another hash fails the verification.
    assert_401_it(await h.get("/s", token), Reason.TOKEN_VERIFICATION_FAILED)


async def test_case_25_ps256_by_k1(h: Harness) -> None:
    header = {**T0_HEADER, "alg": "PS256"}
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(t0_payload()))}"
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    sig = h.k1.private_key.sign(signing_input.encode(), pss, hashes.SHA256())
    assert_401_it(await h.get("/s", f"{signing_input}.{b64(sig)}"), ALG)


async def test_case_26_psychic_es256(h: Harness) -> None:
    header = {"alg": "ES256", "kid": "ins_test1", "typ": "JWT"}
    token = f"{b64(json.dumps(header))}.{b64(json.dumps(t0_payload()))}.{b64(bytes(64))}"
    assert_401_it(await h.get("/s", token), ALG)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256K", "RS256 ", "rs256", "RЅ256"])
async def test_case_27_foreign_and_lookalike_algs(h: Harness, alg: str) -> None:
    token = h.sign({**T0_HEADER, "alg": alg}, t0_payload())
    assert_401_it(await h.get("/s", token), ALG)


async def test_case_28_no_signature_segment(h: Harness) -> None:
    head, payload, _ = h.t0.split(".")
    assert_401_it(await h.get("/s", f"{head}.{payload}"), MALFORMED)


async def test_case_29_empty_signature(h: Harness) -> None:
    head, payload, _ = h.t0.split(".")
    assert_401_it(await h.get("/s", f"{head}.{payload}."))


async def test_case_30_one_signature_bit_flipped(h: Harness) -> None:
    head, payload, sig = h.t0.split(".")
    raw = bytearray(lenient_b64(sig))
    raw[-1] ^= 1
    assert_401_it(await h.get("/s", f"{head}.{payload}.{b64(bytes(raw))}"), SIGNATURE)


async def test_case_31_payload_swapped(h: Harness) -> None:
    head, _, sig = h.t0.split(".")
    token = f"{head}.{b64(json.dumps(t0_payload(sub='user_admin')))}.{sig}"
    assert_401_it(await h.get("/s", token), SIGNATURE)


async def test_case_32_header_swapped(h: Harness) -> None:
    _, payload, sig = h.t0.split(".")
    token = f"{b64(json.dumps({**T0_HEADER, 'x': 1}))}.{payload}.{sig}"
    assert_401_it(await h.get("/s", token), SIGNATURE)


async def test_case_33_signed_by_k2_with_k1s_kid(h: Harness) -> None:
    assert_401_it(await h.get("/s", h.sign(T0_HEADER, t0_payload(), h.k2)), SIGNATURE)


@pytest.mark.parametrize("with_kid", [True, False], ids=["kid-k1", "no-kid"])
async def test_case_34_embedded_jwk_is_ignored(h: Harness, with_kid: bool) -> None:
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "jwk": h.k2.public_jwk()}
    if with_kid:
        header["kid"] = "ins_test1"
    token = h.sign(header, t0_payload(), h.k2)
    assert_401_it(await h.get("/s", token))
    assert h.fake.hits["jwks"] <= 1  # no more than the ordinary first fetch


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_case_35_jku_and_x5u_are_never_fetched(
    h: Harness, ledger: Ledger, member: str
) -> None:
    listener = FakeClerk(kid="ins_test1", signing_key=h.k2)
    ledger.fakes.append(listener)
    with listener.serve() as url:
        token = h.sign({**T0_HEADER, member: f"{url}/v1/jwks"}, t0_payload(), h.k2)
        assert_401_it(await h.get("/s", token), SIGNATURE)
    assert sum(listener.hits.values()) == 0


async def test_case_36_x5c_is_ignored(h: Harness) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(h.k2.private_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(h.k2.private_key, hashes.SHA256())
    )
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    token = h.sign({**T0_HEADER, "x5c": x5c}, t0_payload(), h.k2)
    assert_401_it(await h.get("/s", token), SIGNATURE)


def _t0_with_both_url_characters(h: Harness) -> str:
    """A T0 variant whose signature holds '-' or '_' (so case 38 really changes it)."""
    for attempt in range(100):
        token = h.sign(T0_HEADER, t0_payload(sid=f"sess_2test{attempt}"))
        if "-" in token.split(".")[2] or "_" in token.split(".")[2]:
            return token
    raise AssertionError("no signature with '-' or '_' in 100 tries")


def _unused_bits(sig: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]


SPELLINGS: dict[str, Callable[[str], str]] = {
    "37-pad1": lambda s: s + "=",
    "37-pad2": lambda s: s + "==",
    "38-std-alphabet": lambda s: s.replace("-", "+").replace("_", "/"),
    "39-bang": lambda s: s + "!!!!",
    "39-percent": lambda s: s[:100] + "%%%%" + s[100:],
    "40-unused-bits": _unused_bits,
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
async def test_case_37_to_40_one_spelling_per_signature(h: Harness, spelling: str) -> None:
    original = _t0_with_both_url_characters(h)
    head, payload, sig = original.split(".")
    mutated = SPELLINGS[spelling](sig)
    # A lenient decoder reads the very same signature bytes from the mutated spelling.
    cleaned = mutated.rstrip("=!").replace("%", "").replace("+", "-").replace("/", "_")
    assert lenient_b64(cleaned) == lenient_b64(sig)
    assert mutated != sig
    token = f"{head}.{payload}.{mutated}"
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_39_spaces_inside_the_signature(h: Harness) -> None:
    # Spaces split the value into two credentials: the framing rule of case 5 answers first.
    head, payload, sig = h.t0.split(".")
    assert_400_ir(await h.get("/s", f"{head}.{payload}.{sig[:100]}    {sig[100:]}"))


async def test_case_41_signature_of_the_wrong_length(h: Harness) -> None:
    head, payload, sig = h.t0.split(".")
    raw = lenient_b64(sig)
    for variant in (b"\x00" + raw, raw[:255]):
        assert_401_it(await h.get("/s", f"{head}.{payload}.{b64(variant)}"))


def _rs256_groups() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(private JWK, tests) for the RS256 groups, tcIds 33-263."""
    data = json.loads((VECTORS / "json_web_signature_test.json").read_text())
    groups = []
    for group in data["testGroups"]:
        private = group.get("private")
        if not isinstance(private, dict) or private.get("alg") != "RS256":
            continue
        tests = [t for t in group["tests"] if 33 <= t["tcId"] <= 263]
        if tests:
            groups.append((private, tests))
    return groups


async def test_case_42_wycheproof_rs256_vectors(ledger: Ledger) -> None:
    """Every vector is refused over HTTP (their payloads are not claim sets), while a proper
    session token signed with the group's private key is accepted: the group's key really was
    the one in use. tests/kinds/test_vectors.py checks the signature step against each
    ``result``."""
    seen = 0
    for private_jwk, tests in _rs256_groups():
        public_jwk = {k: v for k, v in private_jwk.items() if k not in PRIVATE_MEMBERS}
        h = Harness(ledger)
        h.fake.jwks_override = {"keys": [public_jwk]}
        private_key = RSAAlgorithm.from_jwk(json.dumps(private_jwk))
        assert isinstance(private_key, rsa.RSAPrivateKey)
        header = {"alg": "RS256", "kid": private_jwk["kid"], "typ": "JWT"}
        assert_ok(await h.get("/s", sign_compact(private_key, header, t0_payload())))
        for test in tests:
            response = await h.get("/s", test["jws"])
            seen += 1
            if test["jws"] == "":
                assert_400_ir(response)
            else:
                assert_401_it(response)
    assert seen == 263 - 33 + 1
