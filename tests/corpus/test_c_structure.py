"""Section 5.C: structure and encoding (cases 43-56)."""

from __future__ import annotations

import json
import zlib

import pytest
from clerk_fixtures import VECTORS
from corpus_kit import (
    T0_HEADER,
    Harness,
    assert_400_ir,
    assert_401_it,
    b64,
    t0_payload,
)

from clerk_fastapi.errors import Reason

pytestmark = pytest.mark.anyio

MALFORMED = Reason.TOKEN_INVALID


async def test_case_43_empty_string_is_a_malformed_request(h: Harness) -> None:
    assert_400_ir(await h.get("/s", ""))


@pytest.mark.parametrize("token", [".", "..", "...", "a.b", "a.b.c"])
async def test_case_43_degenerate_strings(h: Harness, token: str) -> None:
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_44_extra_segments(h: Harness) -> None:
    head, payload, sig = h.t0.split(".")
    for token in (h.t0 + ".AAAA", h.t0 + ".", f"{head}.{payload}.{payload}.{sig}"):
        assert_401_it(await h.get("/s", token), MALFORMED)


def _five_segment_jwes() -> list[str]:
    data = json.loads((VECTORS / "json_web_encryption_test.json").read_text())
    return [
        test["jwe"]
        for group in data["testGroups"]
        for test in group["tests"]
        if isinstance(test.get("jwe"), str) and test["jwe"].count(".") == 4
    ]


async def test_case_45_jwe_is_refused(h: Harness) -> None:
    strings = [*_five_segment_jwes(), "h.a.b.c.d"]
    assert len(strings) == 129  # the 128 Wycheproof JWEs and one hand-made
    for token in strings:
        assert_401_it(await h.get("/s", token), MALFORMED)
    assert h.fake.hits["jwks"] == 0


@pytest.mark.parametrize("head", ["eyJ*bGciOiJSUzI1NiJ9", b64("hello")], ids=["star", "hello"])
async def test_case_46_header_segment_not_base64url_json(h: Harness, head: str) -> None:
    _, payload, sig = h.t0.split(".")
    assert_401_it(await h.get("/s", f"{head}.{payload}.{sig}"), MALFORMED)


@pytest.mark.parametrize("header", ["[1]", '"x"', "1", "null"])
async def test_case_47_header_not_an_object(h: Harness, header: str) -> None:
    token = h.sign_raw(header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), MALFORMED)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1,2]", b'"abc"', b"null", b'{"sub":"\xff"}'],
    ids=["text", "array", "string", "null", "bad-utf8"],
)
async def test_case_48_payload_not_an_object(h: Harness, payload: bytes) -> None:
    token = h.sign(json.dumps(T0_HEADER).encode(), payload)
    # JSON that is not an object decodes in Clerk and fails at `sub` after the signature.
    json_non_object = payload in (b"[1,2]", b'"abc"', b"null")
    reason = Reason.TOKEN_VERIFICATION_FAILED if json_non_object else MALFORMED
    assert_401_it(await h.get("/s", token), reason)


async def test_case_49_nested_jwt_is_not_unwrapped(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "cty": "JWT"}, h.t0.encode())
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_50_deeply_nested_header_member(h: Harness) -> None:
    header = json.dumps(T0_HEADER)[:-1] + ', "x": ' + "[" * 2000 + "]" * 2000 + "}"
    assert len(header) > 4000
    token = h.sign_raw(header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_51_deeply_nested_payload_member(h: Harness) -> None:
    payload = json.dumps(t0_payload())[:-1] + ', "x": ' + "[" * 2000 + "]" * 2000 + "}"
    token = h.sign_raw(json.dumps(T0_HEADER), payload)
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_52_utf8_inside_the_signature(h: Harness) -> None:
    value = f"Bearer {h.t0[:-1]}é".encode()  # raw UTF-8 bytes on the wire
    assert_401_it(await h.get("/s", headers=[("Authorization", value)]), MALFORMED)
    with h.serve() as url:  # and through a real HTTP parser
        assert_401_it(await h.get("/s", headers=[("Authorization", value)], via=url), MALFORMED)


async def test_case_53_unknown_crit(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "crit": ["exp_policy"], "exp_policy": 1}, t0_payload())
    assert_401_it(await h.get("/s", token), MALFORMED)


@pytest.mark.parametrize("crit", [[], "b64", ["alg"]], ids=["empty", "string", "alg"])
async def test_case_54_other_crit_shapes(h: Harness, crit: object) -> None:
    token = h.sign({**T0_HEADER, "crit": crit}, t0_payload())
    assert_401_it(await h.get("/s", token), MALFORMED)


async def test_case_55_detached_payload(h: Harness) -> None:
    header = {"alg": "RS256", "kid": "ins_test1", "b64": False, "crit": ["b64"]}
    head, _, sig = h.sign(header, t0_payload()).split(".")
    assert_401_it(await h.get("/s", f"{head}..{sig}"), MALFORMED)


async def test_case_56_zip_is_never_inflated(h: Harness) -> None:
    deflated = zlib.compress(json.dumps(t0_payload()).encode())[2:-4]  # raw DEFLATE
    token = h.sign(json.dumps({**T0_HEADER, "zip": "DEF"}).encode(), deflated)
    assert_401_it(await h.get("/s", token), MALFORMED)
