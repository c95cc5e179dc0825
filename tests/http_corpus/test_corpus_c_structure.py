"""Section 5.C: structure and encoding (cases 43-56)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from conftest_vectors import VECTORS
from harness import (
    T0_HEADER,
    Harness,
    assert_400_or_401,
    assert_401_it,
    b64,
    raw_json_token,
    t0_payload,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("token", ["", ".", "..", "...", "a.b", "a.b.c"])
async def test_43_degenerate_strings(h: Harness, token: str) -> None:
    assert_400_or_401(await h.get("/s", token))


async def test_44_extra_segments(h: Harness) -> None:
    head, payload, sig = h.t0.split(".")
    for token in (h.t0 + ".AAAA", h.t0 + ".", f"{head}.{payload}.{payload}.{sig}"):
        assert_401_it(await h.get("/s", token), token)


def _jwe_strings() -> list[str]:
    data = json.loads((Path(VECTORS) / "json_web_encryption_test.json").read_text())
    found = [
        t["jwe"]
        for g in data["testGroups"]
        for t in g["tests"]
        if isinstance(t.get("jwe"), str) and t["jwe"].count(".") == 4
    ]
    return found


async def test_45_jwe_is_refused(h: Harness) -> None:
    strings = [*_jwe_strings(), "h.a.b.c.d"]
    assert len(strings) > 100
    for token in strings:
        assert_401_it(await h.get("/s", token), token)


async def test_46_bad_header_segment(h: Harness) -> None:
    _, payload, sig = h.t0.split(".")
    for head in ("eyJ*bGciOiJSUzI1NiJ9", b64("hello")):
        token = f"{head}.{payload}.{sig}"
        assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("header", ["[1]", '"x"', "1", "null"])
async def test_47_header_not_an_object(h: Harness, header: str) -> None:
    token = raw_json_token(h, header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("payload", [b"not json", b"[1,2]", b'"abc"', b"null", b'{"sub":"\xff"}'])
async def test_48_payload_not_an_object(h: Harness, payload: bytes) -> None:
    token = h.sign(json.dumps(T0_HEADER).encode(), payload)
    assert_401_it(await h.get("/s", token), token)


async def test_49_nested_jwt(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "cty": "JWT"}, h.t0.encode())
    assert_401_it(await h.get("/s", token), token)


async def test_50_deep_header(h: Harness) -> None:
    header = json.dumps(T0_HEADER)[:-1] + ',"x":' + "[" * 2000 + "]" * 2000 + "}"
    token = raw_json_token(h, header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), token)


async def test_51_deep_payload(h: Harness) -> None:
    payload = json.dumps(t0_payload())[:-1] + ',"x":' + "[" * 2000 + "]" * 2000 + "}"
    token = raw_json_token(h, json.dumps(T0_HEADER), payload)
    assert_401_it(await h.get("/s", token), token)


async def test_52_non_ascii_in_signature(h: Harness) -> None:
    token = h.t0[:-1] + "é"
    response = await h.get("/s", headers=[("Authorization", f"Bearer {token}".encode())])  # type: ignore[list-item]
    assert_401_it(response)


async def test_53_unknown_crit(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "crit": ["exp_policy"], "exp_policy": 1}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("crit", [[], "b64", ["alg"]])
async def test_54_other_crit_shapes(h: Harness, crit: object) -> None:
    token = h.sign({**T0_HEADER, "crit": crit}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_55_detached_payload(h: Harness) -> None:
    header = {"alg": "RS256", "kid": "ins_test1", "b64": False, "crit": ["b64"]}
    signed = h.sign(header, t0_payload())
    head, _, sig = signed.split(".")
    token = f"{head}..{sig}"
    assert_401_it(await h.get("/s", token), token)


async def test_56_zip_is_not_inflated(h: Harness) -> None:
    deflated = zlib.compress(json.dumps(t0_payload()).encode())[2:-4]
    token = h.sign(json.dumps({**T0_HEADER, "zip": "DEF"}).encode(), deflated)
    assert_401_it(await h.get("/s", token), token)
