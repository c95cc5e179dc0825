"""Section 5.E: claims (cases 72-90)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import AZP, ISS, NOW, T0_HEADER, Harness, assert_401_it, raw_json_token, t0_payload

pytestmark = pytest.mark.anyio


async def ok(h: Harness, **claims: Any) -> int:
    return (await h.get("/s", h.sign(T0_HEADER, t0_payload(**claims)))).status_code


async def refused(h: Harness, **claims: Any) -> None:
    token = h.sign(T0_HEADER, t0_payload(**claims))
    assert_401_it(await h.get("/s", token), token)


async def test_72_expired(h: Harness) -> None:
    await refused(h, exp=NOW - 60)


async def test_73_default_skew_is_5_seconds(h: Harness) -> None:
    assert await ok(h, exp=NOW - 2) == 200
    await refused(h, exp=NOW - 10)


async def test_74_exp_required(h: Harness) -> None:
    await refused(h, exp=...)


@pytest.mark.parametrize("exp", [str(NOW + 60), True, False, None, [NOW + 60], {"t": NOW + 60}])
async def test_75_76_exp_must_be_a_number(h: Harness, exp: Any) -> None:
    await refused(h, exp=exp)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_77_78_non_finite_exp(h: Harness, raw: str) -> None:
    payload = json.dumps(t0_payload(exp=0)).replace('"exp": 0', f'"exp": {raw}')
    token = raw_json_token(h, json.dumps(T0_HEADER), payload)
    assert_401_it(await h.get("/s", token), token)


async def test_79_huge_integer_exp_never_500s(h: Harness) -> None:
    assert await ok(h, exp=10**400) in (200, 401)


@pytest.mark.parametrize("exp", [NOW + 10 * 365 * 86400, 253402300800])
async def test_80_far_future_exp(h: Harness, exp: int) -> None:
    assert await ok(h, exp=exp) == 200


async def test_81_fractional_exp(h: Harness) -> None:
    assert await ok(h, exp=NOW + 60.5) == 200


@pytest.mark.parametrize("nbf", [NOW + 60, "0", "NaN"])
async def test_82_nbf(h: Harness, nbf: Any) -> None:
    if nbf == "NaN":
        payload = json.dumps(t0_payload(nbf=0)).replace('"nbf": 0', '"nbf": NaN')
        token = raw_json_token(h, json.dumps(T0_HEADER), payload)
        assert_401_it(await h.get("/s", token), token)
    else:
        await refused(h, nbf=nbf)


async def test_83_iat_in_the_future(h: Harness) -> None:
    await refused(h, iat=NOW + 60)


@pytest.mark.parametrize("iat", ["yesterday", None, True])
async def test_84_iat_types(h: Harness, iat: Any) -> None:
    await refused(h, iat=iat)


@pytest.mark.parametrize("sub", [..., "", 123, ["user_2test"], None])
async def test_85_sub(h: Harness, sub: Any) -> None:
    await refused(h, sub=sub)


async def test_86_lone_surrogate_sub(h: Harness) -> None:
    payload = json.dumps(t0_payload(sub="PLACEHOLDER")).replace("PLACEHOLDER", "user_\\ud800")
    token = raw_json_token(h, json.dumps(T0_HEADER), payload)
    response = await h.get("/s", token)
    assert response.status_code in (200, 401)
    assert response.status_code != 500


@pytest.mark.parametrize(
    "iss", ["https://other.test", [ISS], ISS + "/", ISS + ".evil.test", ISS[:-3], ISS.upper()]
)
async def test_87_issuer(iss: Any) -> None:
    h = Harness(issuer=ISS)
    assert await ok(h) == 200
    await refused(h, iss=iss)


@pytest.mark.parametrize("azp", [..., "https://evil.test", AZP + "/", AZP.upper(), [AZP]])
async def test_88_authorized_parties(h: Harness, azp: Any) -> None:
    await refused(h, azp=azp)


async def test_89_aud_without_configured_audience(h: Harness) -> None:
    assert await ok(h, aud="https://api.test") == 200


@pytest.mark.parametrize("aud", ["https://other.test", ["https://other.test"], [1], "", ...])
async def test_90_audience(aud: Any) -> None:
    h = Harness(audience=["https://api.test"])
    assert await ok(h, aud="https://api.test") == 200
    assert await ok(h, aud=["x", "https://api.test"]) == 200
    await refused(h, aud=aud)
