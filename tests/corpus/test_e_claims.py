"""Section 5.E: claims (cases 72-90)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from corpus_kit import (
    AZP,
    ISS,
    NOW,
    T0_HEADER,
    Harness,
    assert_401_it,
    assert_ok,
    t0_payload,
)

from clerk_fastapi.errors import Reason

pytestmark = pytest.mark.anyio

# Clerk's reason for an expired session token on a GET without a refresh cookie (reference 2.4).
EXPIRED = "session-token-expired-refresh-non-eligible-no-refresh-cookie"


async def accepted(h: Harness, **claims: Any) -> None:
    assert_ok(await h.get("/s", h.sign(T0_HEADER, t0_payload(**claims))))


async def refused(h: Harness, reason: str | None = None, **claims: Any) -> None:
    assert_401_it(await h.get("/s", h.sign(T0_HEADER, t0_payload(**claims))), reason)


async def refused_raw(h: Harness, claim: str, raw: str, reason: str | None = None) -> None:
    """T0 with ``claim`` set to raw JSON text (NaN, Infinity, escapes json.dumps won't write)."""
    payload = json.dumps(t0_payload(**{claim: "PLACEHOLDER"})).replace('"PLACEHOLDER"', raw)
    assert_401_it(await h.get("/s", h.sign_raw(json.dumps(T0_HEADER), payload)), reason)


async def test_case_72_expired(h: Harness) -> None:
    await refused(h, EXPIRED, exp=NOW - 60)


async def test_case_73_default_skew_is_five_seconds(h: Harness) -> None:
    await accepted(h, exp=NOW - 2)
    await refused(h, EXPIRED, exp=NOW - 10)


async def test_case_73_skew_is_configurable(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(clock_skew=0)
    await refused(h, EXPIRED, exp=NOW - 2)


async def test_case_74_exp_is_required(h: Harness) -> None:
    await refused(h, exp=...)


@pytest.mark.parametrize(
    "exp",
    [str(NOW + 60), True, False, None, [NOW + 60], {"t": NOW + 60}],
    ids=["string", "true", "false", "null", "list", "object"],
)
async def test_case_75_76_exp_must_be_a_number(h: Harness, exp: Any) -> None:
    await refused(h, exp=exp)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
async def test_case_77_78_non_finite_exp(h: Harness, raw: str) -> None:
    await refused_raw(h, "exp", raw, Reason.TOKEN_INVALID)  # not JSON: refused at parsing


async def test_case_78_exp_overflowing_to_infinity(h: Harness) -> None:
    # Valid JSON that a float parser turns into inf: refused by the finite-number check.
    await refused_raw(h, "exp", "1e400", Reason.TOKEN_VERIFICATION_FAILED)


async def test_case_79_a_401_digit_exp_never_500s(h: Harness) -> None:
    # Policy: a huge but exact integer is a valid NumericDate (Clerk parity); results are cached
    # for at most an hour whatever the exp, so nothing overflows anywhere.
    await accepted(h, exp=10**400)


@pytest.mark.parametrize("exp", [NOW + 10 * 365 * 86400, 253402300800], ids=["10y", "year-10000"])
async def test_case_80_far_future_exp(h: Harness, exp: int) -> None:
    await accepted(h, exp=exp)


async def test_case_81_fractional_exp(h: Harness) -> None:
    await accepted(h, exp=NOW + 60.5)


async def test_case_82_nbf(h: Harness) -> None:
    await refused(h, "session-token-nbf", nbf=NOW + 60)
    await refused(h, nbf="0")
    await refused_raw(h, "nbf", "NaN", Reason.TOKEN_INVALID)


async def test_case_83_iat_in_the_future(h: Harness) -> None:
    await refused(h, "session-token-iat-in-the-future", iat=NOW + 60)


@pytest.mark.parametrize("iat", ["yesterday", None, True], ids=["string", "null", "true"])
async def test_case_84_iat_must_be_a_number(h: Harness, iat: Any) -> None:
    await refused(h, iat=iat)


async def test_case_84_iat_nan(h: Harness) -> None:
    await refused_raw(h, "iat", "NaN", Reason.TOKEN_INVALID)


@pytest.mark.parametrize(
    "sub", [..., "", 123, ["user_2test"], None], ids=["missing", "empty", "int", "list", "null"]
)
async def test_case_85_sub(h: Harness, sub: Any) -> None:
    await refused(h, sub=sub)


async def test_case_86_lone_surrogate_in_sub(h: Harness) -> None:
    # Policy: refused at parsing; it would crash a response encoder or a log handler later.
    await refused_raw(h, "sub", '"user_\\ud800"', Reason.TOKEN_INVALID)


@pytest.mark.parametrize(
    "iss",
    ["https://other.test", [ISS], ISS + "/", ISS + ".evil.test", ISS[:-3], ISS.upper()],
    ids=["other", "list", "slash", "suffix", "prefix", "upper"],
)
async def test_case_87_issuer_is_compared_exactly(
    make_harness: Callable[..., Harness], iss: Any
) -> None:
    h = make_harness(issuer=ISS)
    await accepted(h)
    await refused(h, iss=iss)


@pytest.mark.parametrize(
    "azp",
    [..., "https://evil.test", AZP + "/", AZP.upper(), [AZP]],
    ids=["missing", "other", "slash", "upper", "list"],
)
async def test_case_88_authorized_parties(h: Harness, azp: Any) -> None:
    await refused(h, Reason.TOKEN_INVALID_AUTHORIZED_PARTIES, azp=azp)


async def test_case_89_aud_ignored_without_a_configured_audience(h: Harness) -> None:
    await accepted(h, aud="https://api.test")


@pytest.mark.parametrize(
    "aud",
    ["https://other.test", ["https://other.test"], [1], "", ...],
    ids=["other", "other-list", "int-list", "empty", "missing"],
)
async def test_case_90_configured_audience(make_harness: Callable[..., Harness], aud: Any) -> None:
    h = make_harness(audience=["https://api.test"])
    await accepted(h, aud="https://api.test")
    await accepted(h, aud=["x", "https://api.test"])
    await refused(h, aud=aud)
