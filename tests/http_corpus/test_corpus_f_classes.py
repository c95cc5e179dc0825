"""Section 5.F: token-class confusion (cases 91-97)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import T0_HEADER, Harness, assert_401_it, raw_json_token, t0_payload

from clerk_fastapi.tokens import CATEGORY_IGNORE, CATEGORY_JWT_TEMPLATE

pytestmark = pytest.mark.anyio


async def test_91_m2m_jwt_only_where_m2m_is_accepted(h: Harness) -> None:
    token = h.fake.m2m_token("jwt")
    assert_401_it(await h.get("/s", token), token)
    assert (await h.get("/m2m", token)).status_code == 200


@pytest.mark.parametrize("path", ["/s", "/any"])
async def test_92_jwt_template_is_not_a_session(h: Harness, path: str) -> None:
    token = h.sign({**T0_HEADER, "cat": CATEGORY_JWT_TEMPLATE}, t0_payload())
    assert_401_it(await h.get(path, token), token)


async def test_93_oauth_and_session_do_not_mix(h: Harness) -> None:
    at_jwt = h.sign({**T0_HEADER, "typ": "at+jwt"}, t0_payload())
    assert_401_it(await h.get("/s", at_jwt), at_jwt)
    oauth = h.fake.oauth_token("jwt")
    assert_401_it(await h.get("/m2m", oauth), oauth)
    assert_401_it(await h.get("/oauth", h.t0), h.t0)


@pytest.mark.parametrize("typ", ["JWS", "jwt+at", "application/jwt", 123])
async def test_94_typ(h: Harness, typ: Any) -> None:
    token = h.sign({**T0_HEADER, "typ": typ}, t0_payload())
    assert_401_it(await h.get("/s", token), token)


@pytest.mark.parametrize("cat", ["cl_unknown", 123])
async def test_95_unknown_categories(h: Harness, cat: Any) -> None:
    token = h.sign({**T0_HEADER, "cat": cat}, t0_payload())
    assert_401_it(await h.get("/s", token), token)
    ignore = h.sign({**T0_HEADER, "cat": CATEGORY_IGNORE}, t0_payload())
    assert (await h.get("/s", ignore)).status_code == 200


async def test_96_duplicate_members(h: Harness) -> None:
    payload = json.dumps(t0_payload())[:-1] + ', "sub": "user_b"}'
    token = raw_json_token(h, json.dumps(T0_HEADER), payload)
    assert_401_it(await h.get("/s", token), token)
    header = '{"alg":"none","kid":"ins_test1","typ":"JWT","alg":"RS256"}'
    token = raw_json_token(h, header, json.dumps(t0_payload()))
    assert_401_it(await h.get("/s", token), token)


async def test_97_pending_session(h: Harness) -> None:
    token = h.sign(T0_HEADER, t0_payload(v=2, sts="pending"))
    response = await h.get("/s", token)
    assert_401_it(response, token)
    assert response.json()["detail"]["reason"] == "session-pending"
