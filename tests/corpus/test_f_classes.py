"""Section 5.F: token-class confusion, Clerk specifics (cases 91-97)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from corpus_kit import T0_HEADER, Harness, assert_401_it, assert_ok, t0_payload

from clerk_fastapi.errors import Reason
from clerk_fastapi.kinds._jwt import CATEGORY_IGNORE, CATEGORY_JWT_TEMPLATE, CATEGORY_M2M

pytestmark = pytest.mark.anyio

MISMATCH = Reason.TOKEN_TYPE_MISMATCH


async def test_case_91_m2m_jwt_only_where_m2m_is_accepted(h: Harness) -> None:
    token = h.fake.m2m_token("jwt")
    assert_401_it(await h.get("/s", token), MISMATCH)
    assert_ok(await h.get("/m2m", token), "m2m_token")
    assert_ok(await h.get("/any", token), "m2m_token")


async def test_case_91_hand_made_m2m_jwt(h: Harness) -> None:
    claims = {**t0_payload(sub="mch_2test"), "jti": "mt_" + "0" * 32}
    token = h.sign({**T0_HEADER, "cat": CATEGORY_M2M}, claims)
    assert_401_it(await h.get("/s", token), MISMATCH)


@pytest.mark.parametrize("path", ["/s", "/any"])
async def test_case_92_jwt_template_is_not_a_session(h: Harness, path: str) -> None:
    # Policy: refused under "any" too (Clerk only checks cat on its session-only path).
    token = h.sign({**T0_HEADER, "cat": CATEGORY_JWT_TEMPLATE}, t0_payload())
    assert_401_it(await h.get(path, token))


async def test_case_93_oauth_and_session_do_not_mix(h: Harness) -> None:
    at_jwt = h.sign({**T0_HEADER, "typ": "at+jwt"}, t0_payload())
    assert_401_it(await h.get("/s", at_jwt), MISMATCH)
    oauth = h.fake.oauth_token("jwt")
    assert_401_it(await h.get("/m2m", oauth), MISMATCH)
    assert_ok(await h.get("/oauth", oauth), "oauth_token")
    assert_401_it(await h.get("/oauth", h.t0), MISMATCH)


@pytest.mark.parametrize("typ", ["JWS", "jwt+at", "application/jwt", 123])
async def test_case_94_only_jwt_or_absent_typ_is_a_session(h: Harness, typ: Any) -> None:
    token = h.sign({**T0_HEADER, "typ": typ}, t0_payload())
    assert_401_it(await h.get("/s", token))


async def test_case_94_absent_typ_is_a_session(h: Harness) -> None:
    assert_ok(await h.get("/s", h.sign({"alg": "RS256", "kid": "ins_test1"}, t0_payload())))


@pytest.mark.parametrize("cat", ["cl_unknown", 123], ids=["unknown", "int"])
async def test_case_95_unknown_categories(h: Harness, cat: Any) -> None:
    token = h.sign({**T0_HEADER, "cat": cat}, t0_payload())
    assert_401_it(await h.get("/s", token))


async def test_case_95_the_ignore_category_is_a_session(h: Harness) -> None:
    assert_ok(await h.get("/s", h.sign({**T0_HEADER, "cat": CATEGORY_IGNORE}, t0_payload())))


async def test_case_96_duplicate_claims(h: Harness) -> None:
    # Policy: duplicate members are refused (parsers disagree on which one wins).
    payload = json.dumps(t0_payload(sub="user_a"))[:-1] + ', "sub": "user_b"}'
    token = h.sign_raw(json.dumps(T0_HEADER), payload)
    assert_401_it(await h.get("/s", token), Reason.TOKEN_INVALID)


async def test_case_96_duplicate_alg_is_never_none(h: Harness) -> None:
    header = '{"alg":"none","kid":"ins_test1","typ":"JWT","alg":"RS256"}'
    token = h.sign_raw(header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), Reason.TOKEN_INVALID)


async def test_case_97_pending_session_is_signed_out(h: Harness) -> None:
    token = h.sign(T0_HEADER, t0_payload(v=2, sts="pending"))
    assert_401_it(await h.get("/s", token), Reason.SESSION_PENDING)
    assert_ok(await h.get("/s", h.sign(T0_HEADER, t0_payload(v=2, sts="active"))))


async def test_case_97_pending_sessions_can_be_allowed(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness(treat_pending_as_signed_out=False)
    assert_ok(await h.get("/s", h.sign(T0_HEADER, t0_payload(v=2, sts="pending"))))
