"""Section 5.A: transport and RFC 6750 framing (cases 1-14)."""

from __future__ import annotations

import time

import pytest
from harness import (
    PERMISSION,
    T0_HEADER,
    Harness,
    assert_400_ir,
    assert_400_or_401,
    assert_401_it,
    assert_401_na,
    assert_403_is,
    t0_payload,
)

pytestmark = pytest.mark.anyio


async def test_01_no_credentials(h: Harness) -> None:
    assert_401_na(await h.get("/s"))


async def test_02_other_scheme(h: Harness) -> None:
    assert_401_na(await h.get("/s", headers=[("Authorization", "Basic dXNlcjpwYXNz")]))


@pytest.mark.parametrize("value", ["Bearer", "Bearer    ", "Bearer "])
async def test_03_empty_bearer(h: Harness, value: str) -> None:
    assert_400_ir(await h.get("/s", headers=[("Authorization", value)]))


async def test_04_scheme_is_case_insensitive(h: Harness) -> None:
    response = await h.get("/s", headers=[("authorization", f"bearer {h.t0}")])
    assert response.status_code == 200


@pytest.mark.parametrize("shape", ["{t} {t}", "{t},x"])
async def test_05_two_tokens_in_one_header(h: Harness, shape: str) -> None:
    value = "Bearer " + shape.format(t=h.t0)
    response = await h.get("/s", headers=[("Authorization", value)])
    if " " in shape:
        assert_400_ir(response, h.t0)
    else:
        assert_401_it(response, h.t0)


@pytest.mark.parametrize("first_is_valid", [True, False])
async def test_06_two_authorization_headers(h: Harness, first_is_valid: bool) -> None:
    pair = [("Authorization", f"Bearer {h.t0}"), ("Authorization", "Bearer garbage")]
    headers = pair if first_is_valid else pair[::-1]
    assert_400_ir(await h.get("/s", headers=headers), h.t0)


async def test_07_query_parameter_is_not_a_transport(h: Harness) -> None:
    assert_401_na(await h.get("/s", params={"access_token": h.t0}), h.t0)


async def test_08_form_body_is_not_a_transport(h: Harness) -> None:
    response = await h.get("/s", method="POST", data={"access_token": h.t0})
    assert_401_na(response, h.t0)


async def test_09_header_wins_over_cookie(h: Harness) -> None:
    response = await h.get(
        "/s", headers=[("Authorization", "Bearer garbage"), ("Cookie", f"__session={h.t0}")]
    )
    assert_401_it(response, h.t0)
    # The cookie alone is accepted (cookie auth is on in this harness).
    assert (await h.get("/s", headers=[("Cookie", f"__session={h.t0}")])).status_code == 200


async def test_10_missing_permission_is_403(h: Harness) -> None:
    assert_403_is(await h.get("/admin", h.t0), PERMISSION)


async def test_11_quote_in_kid_cannot_inject_parameters(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": 'x", error="insufficient_scope'}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_12_crlf_in_kid_is_not_reflected(h: Harness) -> None:
    token = h.sign({**T0_HEADER, "kid": "a\r\nSet-Cookie: pwn=1"}, t0_payload())
    response = await h.get("/s", token)
    assert_401_it(response, token)
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("field", ["kid", "alg"])
async def test_13_non_latin1_header_values(h: Harness, field: str) -> None:
    value = "☃" if field == "kid" else "RS256☃"
    token = h.sign({**T0_HEADER, field: value}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


async def test_14_huge_tokens(h: Harness) -> None:
    started = time.monotonic()
    assert_400_or_401(await h.get("/s", "A" * 65_536))
    big = h.sign(T0_HEADER, t0_payload(blob="x" * (1 << 20)))
    assert_400_or_401(await h.get("/s", big), big)
    assert time.monotonic() - started < 1.0
