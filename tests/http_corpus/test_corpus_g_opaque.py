"""Section 5.G: opaque machine tokens against the (fake) Backend API (cases 98-112)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

import pytest
from harness import (
    NOW,
    T0_HEADER,
    Harness,
    assert_400_or_401,
    assert_401_it,
    assert_503,
    t0_payload,
)

pytestmark = pytest.mark.anyio


def mt() -> str:
    return "mt_" + secrets.token_hex(16)


def m2m_resource(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "object": "machine_to_machine_token",
        "id": "mt_" + secrets.token_hex(16),
        "subject": "mch_2test",
        "scopes": [],
        "claims": None,
        "revoked": False,
        "revocation_reason": None,
        "expired": False,
        "expiration": (NOW + 3600) * 1000,
        "created_at": NOW * 1000,
        "updated_at": NOW * 1000,
    }
    resource.update(changes)
    return resource


async def test_98_unknown_token_one_call_exact_body(h: Harness) -> None:
    token = mt()
    assert_401_it(await h.get("/m2m", token), token)
    assert h.fake.hits["m2m_verify"] == 1
    assert h.fake.requests[-1].json == {"token": token}


async def test_99_revoked_expired_inactive_200s_are_refused(h: Harness) -> None:
    revoked, expired, inactive = mt(), mt(), "oat_" + secrets.token_hex(16)
    h.fake.register_opaque(revoked, "m2m_token", m2m_resource(revoked=True))
    h.fake.register_opaque(expired, "m2m_token", m2m_resource(expired=True))
    h.fake.register_opaque(inactive, "oauth_token", {"active": False})
    assert_401_it(await h.get("/m2m", revoked), revoked)
    assert_401_it(await h.get("/m2m", expired), expired)
    assert_401_it(await h.get("/oauth", inactive), inactive)


@pytest.mark.parametrize("body", ["malformed", {}, {"subject": 123}])
async def test_100_bad_200_bodies_are_never_valid(h: Harness, body: Any) -> None:
    token = mt()
    if body == "malformed":
        h.fake.register_opaque(token, "m2m_token", m2m_resource())
        h.fake.fail("m2m_verify", "malformed")
    else:
        h.fake.register_opaque(token, "m2m_token", m2m_resource(**body) if body else {})
    response = await h.get("/m2m", token)
    assert response.status_code in (401, 503)
    if response.status_code == 401:
        assert_401_it(response, token)


@pytest.mark.parametrize(
    ("fault", "options", "max_calls"),
    [
        ("status", {"status": 401}, 1),
        ("status", {"status": 429, "retry_after": 7}, 1),
        ("status", {"status": 500}, 1),
        ("slow", {"delay": 5}, 1),
        ("down", {}, 2),
    ],
    ids=["bapi-401", "429", "500", "hang", "reset"],
)
async def test_101_upstream_trouble_is_503(
    h: Harness, fault: str, options: dict[str, Any], max_calls: int
) -> None:
    token = h.fake.m2m_token()
    h.fake.fail("m2m_verify", fault, **options)  # type: ignore[arg-type]
    started = time.monotonic()
    response = await h.get("/m2m", token)
    assert_503(response, token)
    assert time.monotonic() - started < 1.0 + 0.5  # http_timeout is 1 s here
    assert 1 <= h.fake.hits["m2m_verify"] <= max_calls  # one retry at most, none after 429
    if options.get("status") == 429:
        assert response.headers["retry-after"] == "7"


async def test_102_cache_ttl_bounds_revocation() -> None:
    h = Harness(machine_token_cache_ttl=5)
    token = h.fake.m2m_token()
    assert (await h.get("/m2m", token)).status_code == 200
    h.fake.revoke(token)
    assert (await h.get("/m2m", token)).status_code == 200  # inside the opt-in TTL
    h.clock.advance(6)
    assert_401_it(await h.get("/m2m", token), token)
    no_cache = Harness()
    other = no_cache.fake.m2m_token()
    assert (await no_cache.get("/m2m", other)).status_code == 200
    no_cache.fake.revoke(other)
    assert_401_it(await no_cache.get("/m2m", other), other)


async def test_103_cache_never_outlives_the_token() -> None:
    h = Harness(machine_token_cache_ttl=60)
    token = mt()
    h.fake.register_opaque(token, "m2m_token", m2m_resource(expiration=(NOW + 2) * 1000))
    assert (await h.get("/m2m", token)).status_code == 200
    h.clock.advance(3)
    assert_401_it(await h.get("/m2m", token), token)


async def test_104_no_prefix_or_case_folded_cache_keys() -> None:
    h = Harness(machine_token_cache_ttl=60)
    token = h.fake.m2m_token()
    assert (await h.get("/m2m", token)).status_code == 200
    at = next(i for i, c in enumerate(token) if i > 3 and c.isalpha())
    flipped = token[:at] + token[at].swapcase() + token[at + 1 :]
    variants = [flipped, token + "x", token[:24] + "Z" * (len(token) - 24)]
    for variant in variants:
        assert variant != token
        before = h.fake.hits["m2m_verify"]
        assert_401_it(await h.get("/m2m", variant), variant)
        assert h.fake.hits["m2m_verify"] == before + 1


async def test_105_concurrent_requests_coalesce(h: Harness) -> None:
    token = h.fake.m2m_token()
    h.fake.fail("m2m_verify", "slow", delay=0.05)
    async with h.client() as client:
        responses = await asyncio.gather(
            *(client.get("/m2m", headers={"Authorization": f"Bearer {token}"}) for _ in range(50))
        )
    assert [r.status_code for r in responses] == [200] * 50
    assert h.fake.hits["m2m_verify"] == 1


async def test_106_negative_cache(h: Harness) -> None:
    token = mt()
    for _ in range(100):
        assert_401_it(await h.get("/m2m", token), token)
        h.clock.advance(0.1)
    assert h.fake.hits["m2m_verify"] <= 2


@pytest.mark.parametrize("token", ["mt_", "mt_!!!", "mt_" + "a" * 100_000, "mt_é"])
async def test_107_impossible_formats_never_reach_clerk(h: Harness, token: str) -> None:
    headers = [("Authorization", f"Bearer {token}".encode())]
    assert_400_or_401(await h.get("/m2m", headers=headers))  # type: ignore[arg-type]
    assert h.fake.hits["m2m_verify"] == 0


async def test_108_json_injection_never_reaches_clerk(h: Harness) -> None:
    token = 'mt_x","token":"mt_valid'
    assert_401_it(await h.get("/m2m", token), token)
    assert h.fake.hits["m2m_verify"] == 0


@pytest.mark.parametrize(
    ("path", "token"),
    [("/apikey", "mt_" + "a" * 32), ("/m2m", "ak_" + "a" * 32), ("/s", "oat_" + "a" * 32)],
)
async def test_109_wrong_type_costs_nothing(h: Harness, path: str, token: str) -> None:
    assert_401_it(await h.get(path, token), token)
    assert sum(h.fake.hits.values()) == 0


@pytest.mark.parametrize("token", ["sk_live_" + "a" * 40, "xx_" + "b" * 40])
async def test_110_unknown_prefixes(
    h: Harness, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_401_it(await h.get("/any", token), token)
    assert h.fake.hits["m2m_verify"] + h.fake.hits["api_key_verify"] == 0
    assert all(token not in r.getMessage() for r in caplog.records)


async def test_111_failures_are_isolated(h: Harness) -> None:
    h.fake.fail("m2m_verify", "down")
    assert (await h.get("/s", h.t0)).status_code == 200
    assert_503(await h.get("/m2m", h.fake.m2m_token()))


async def test_112_no_secret_in_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness()
    secrets_seen: list[str] = [h.fake.secret_key]
    tokens = [
        h.t0,
        h.sign(T0_HEADER, t0_payload(exp=NOW - 60)),
        h.sign(T0_HEADER, t0_payload(), h.k2),
        h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload()),
        h.fake.m2m_token(),
        h.fake.m2m_token("jwt"),
        h.fake.oauth_token("opaque"),
        h.fake.api_key(),
        mt(),
        "sk_live_" + "c" * 40,
    ]
    for token in tokens:
        secrets_seen.append(token)
        for path in ("/s", "/m2m", "/any", "/apikey"):
            await h.get(path, token)
    h.fake.fail("*", "status", status=500)
    h.clerk.clear_caches()
    for token in tokens:
        await h.get("/any", token)
    assert caplog.records, "expected some log records at DEBUG"
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        for secret in secrets_seen:
            assert secret not in text
            assert f"Bearer {secret}" not in text
            parts = secret.split(".")
            if len(parts) == 3:
                assert parts[2] not in text  # no signature segment
        assert '"token":' not in text and '"secret":' not in text  # no BAPI body
