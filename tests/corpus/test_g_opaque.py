"""Section 5.G: opaque machine tokens against the fake Backend API (cases 98-112)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from corpus_kit import (
    HANG,
    NOW,
    T0_HEADER,
    Harness,
    assert_401_it,
    assert_503,
    assert_ok,
    t0_payload,
)

from clerk_fastapi.errors import Reason

pytestmark = pytest.mark.anyio

# token type -> (route, fake endpoint, Backend API body key, minting)
KINDS: dict[str, tuple[str, str, str, Callable[[Harness], str]]] = {
    "m2m_token": ("/m2m", "m2m_verify", "token", lambda h: h.fake.m2m_token()),
    "api_key": ("/apikey", "api_key_verify", "secret", lambda h: h.fake.api_key()),
    "oauth_token": (
        "/oauth",
        "oauth_verify",
        "access_token",
        lambda h: h.fake.oauth_token("opaque"),
    ),
}


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


async def test_case_98_unknown_token_one_call_with_the_exact_body(h: Harness) -> None:
    token = mt()
    assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)
    assert h.fake.hits["m2m_verify"] == 1
    assert h.fake.requests[-1].json == {"token": token}


async def test_case_99_revoked_expired_inactive_200s_are_refused(h: Harness) -> None:
    revoked, expired, inactive = mt(), mt(), "oat_" + secrets.token_hex(16)
    h.fake.register_opaque(revoked, "m2m_token", m2m_resource(revoked=True))
    h.fake.register_opaque(expired, "m2m_token", m2m_resource(expired=True))
    h.fake.register_opaque(inactive, "oauth_token", {"active": False})
    assert_401_it(await h.get("/m2m", revoked), Reason.TOKEN_INVALID)
    assert_401_it(await h.get("/m2m", expired), Reason.TOKEN_INVALID)
    assert_401_it(await h.get("/oauth", inactive), Reason.TOKEN_INVALID)
    valid = mt()
    h.fake.register_opaque(valid, "m2m_token", m2m_resource())
    assert_ok(await h.get("/m2m", valid), "m2m_token")  # the same shape, not refused: valid


@pytest.mark.parametrize("body", ["not-json", "empty", "subject-int"])
async def test_case_100_a_bad_200_is_never_valid(h: Harness, body: str) -> None:
    token = mt()
    if body == "not-json":
        h.fake.register_opaque(token, "m2m_token", m2m_resource())
        h.fake.fail("m2m_verify", "malformed")
    else:
        h.fake.register_opaque(
            token, "m2m_token", {} if body == "empty" else m2m_resource(subject=123)
        )
    response = await h.get("/m2m", token)
    if body == "not-json":  # not Clerk speaking: upstream trouble
        assert_503(response)
    else:  # Clerk's answer fails validation: the token is not accepted
        assert_401_it(response, Reason.TOKEN_INVALID)


FAULTS: dict[str, tuple[str, dict[str, Any], int]] = {
    # fault -> (mode, options, most Backend API calls allowed)
    "bapi-401": ("status", {"status": 401}, 1),
    "429": ("status", {"status": 429, "retry_after": 7}, 1),
    "500": ("status", {"status": 500}, 2),
    "hang": ("slow", {"delay": HANG}, 1),
    "reset": ("down", {}, 2),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_case_101_upstream_trouble_is_503(h: Harness, kind: str, fault: str) -> None:
    route, endpoint, _, mint = KINDS[kind]
    mode, options, max_calls = FAULTS[fault]
    token = mint(h)
    h.fake.fail(endpoint, mode, **options)  # type: ignore[arg-type]
    response = await h.get(route, token)  # assert_negative bounds the time by the timeout
    assert_503(response, retry_after=7 if fault == "429" else None)
    assert 1 <= h.fake.hits[endpoint] <= max_calls  # one retry at most, none after 429


@pytest.mark.parametrize("kind", list(KINDS))
async def test_case_101_a_wrong_secret_key_is_503_and_an_error_log(
    make_harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    h = make_harness(secret_key="sk_test_" + "W" * 40)  # Clerk answers 401 to this key
    route, endpoint, _, mint = KINDS[kind]
    assert_503(await h.get(route, mint(h)))
    assert h.fake.hits[endpoint] == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "secret key" in errors[-1].getMessage()


async def test_case_102_cache_ttl_bounds_revocation(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(machine_token_cache_ttl=5)
    token = h.fake.m2m_token()
    assert_ok(await h.get("/m2m", token), "m2m_token")
    h.fake.revoke(token)
    assert_ok(await h.get("/m2m", token), "m2m_token")  # inside the opt-in TTL
    h.clock.advance(6)
    assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)


async def test_case_102_without_a_cache_revocation_is_instant(h: Harness) -> None:
    token = h.fake.m2m_token()
    assert_ok(await h.get("/m2m", token), "m2m_token")
    h.fake.revoke(token)
    assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)


async def test_case_103_the_cache_never_outlives_the_token(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness(machine_token_cache_ttl=60)
    token = mt()
    h.fake.register_opaque(token, "m2m_token", m2m_resource(expiration=(NOW + 2) * 1000))
    assert_ok(await h.get("/m2m", token), "m2m_token")
    h.clock.advance(3)
    assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)


async def test_case_104_cache_keys_are_exact(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(machine_token_cache_ttl=60)
    token = h.fake.m2m_token()
    assert_ok(await h.get("/m2m", token), "m2m_token")
    at = next(i for i, c in enumerate(token) if i > 3 and c.isalpha())
    flipped = token[:at] + token[at].swapcase() + token[at + 1 :]
    for variant in (flipped, token + "x", token[:24] + "Z" * (len(token) - 24)):
        assert variant != token
        before = h.fake.hits["m2m_verify"]
        assert_401_it(await h.get("/m2m", variant), Reason.TOKEN_INVALID)
        assert h.fake.hits["m2m_verify"] == before + 1  # each went to Clerk
    assert_ok(await h.get("/m2m", token), "m2m_token")


@pytest.mark.parametrize("cache_ttl", [0, 60], ids=["no-cache", "cache"])
async def test_case_105_concurrent_requests_make_one_call(
    make_harness: Callable[..., Harness], cache_ttl: int
) -> None:
    h = make_harness(machine_token_cache_ttl=cache_ttl, http_timeout=5.0)
    token = h.fake.m2m_token()
    # A call long enough that all 50 overlap it even on a busy machine (well inside the timeout).
    h.fake.fail("m2m_verify", "slow", delay=1.0)
    for response in await h.many("/m2m", token, 50):
        assert_ok(response, "m2m_token")
    assert h.fake.hits["m2m_verify"] == 1  # coalesced even without the result cache


async def test_case_106_negative_cache(h: Harness) -> None:
    token = mt()
    for _ in range(100):  # 100 requests within 10 s
        assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)
        h.clock.advance(0.1)
    ttl = h.clerk.settings.negative_cache_ttl
    assert h.fake.hits["m2m_verify"] <= 1 + int(10 // ttl)


@pytest.mark.parametrize(
    "token",
    ["mt_", "mt_!!!", "mt_" + "a" * 100_000, "mt_é"],
    ids=["bare-prefix", "bangs", "100KB", "non-ascii"],
)
async def test_case_107_impossible_formats_never_reach_clerk(h: Harness, token: str) -> None:
    response = await h.get("/m2m", headers=[("Authorization", f"Bearer {token}".encode())])
    assert_401_it(response, Reason.TOKEN_INVALID)
    assert sum(h.fake.hits.values()) == 0


async def test_case_108_json_injection_never_reaches_clerk(h: Harness) -> None:
    token = 'mt_x","token":"mt_valid'
    assert_401_it(await h.get("/m2m", token), Reason.TOKEN_INVALID)
    assert sum(h.fake.hits.values()) == 0


@pytest.mark.parametrize(
    ("path", "token", "reason"),
    [
        ("/apikey", "mt_" + "a" * 32, Reason.TOKEN_TYPE_MISMATCH),
        ("/m2m", "ak_" + "a" * 32, Reason.TOKEN_TYPE_MISMATCH),
        # Clerk parity: on a session-only route an opaque token just fails to decode as a JWT.
        ("/s", "oat_" + "a" * 32, Reason.TOKEN_INVALID),
    ],
    ids=["mt-on-apikey", "ak-on-m2m", "oat-on-session"],
)
async def test_case_109_the_wrong_type_costs_nothing(
    h: Harness, path: str, token: str, reason: str
) -> None:
    assert_401_it(await h.get(path, token), reason)
    assert sum(h.fake.hits.values()) == 0


@pytest.mark.parametrize("token", ["sk_live_" + "a" * 40, "xx_" + "b" * 40], ids=["sk_live", "xx"])
@pytest.mark.parametrize("path", ["/any", "/m2m"])
async def test_case_110_unknown_prefixes(h: Harness, path: str, token: str) -> None:
    # Absent from logs: the ledger scans every record of this test at teardown.
    assert_401_it(await h.get(path, token))
    assert sum(h.fake.hits.values()) == 0


async def test_case_111_failures_are_isolated(h: Harness) -> None:
    h.fake.fail("m2m_verify", "down")
    assert_ok(await h.get("/s", h.t0))
    assert_503(await h.get("/m2m", h.fake.m2m_token()))
    assert_ok(await h.get("/apikey", h.fake.api_key()), "api_key")


# Which routes accept which token type (the harness's routes).
ROUTES = {
    "/s": "session_token",
    "/m2m": "m2m_token",
    "/any": "any",
    "/apikey": "api_key",
    "/oauth": "oauth_token",
}


async def test_case_112_error_paths_log_fingerprints_only(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every test of the corpus runs under the ledger's DEBUG log scan; this one drives the
    noisiest paths (upstream errors, a wrong secret, every token type) on purpose."""
    # Each token with its type if it is valid, None if it is not: the expected outcome of
    # every request follows from that alone (200 where the route accepts the type, else 401-IT).
    tokens: list[tuple[str, str | None]] = [
        (h.t0, "session_token"),
        (h.sign(T0_HEADER, t0_payload(exp=NOW - 60)), None),
        (h.sign(T0_HEADER, t0_payload(), h.k2), None),
        (h.sign({**T0_HEADER, "kid": "ins_unknown"}, t0_payload()), None),
        (h.fake.m2m_token(), "m2m_token"),
        (h.fake.m2m_token("jwt"), "m2m_token"),
        (h.fake.oauth_token("opaque"), "oauth_token"),
        (h.fake.oauth_token("jwt"), "oauth_token"),
        (h.fake.api_key(), "api_key"),
        (mt(), None),
        ("sk_live_" + "c" * 40, None),
    ]
    for token, token_type in tokens:
        for path, accepts in ROUTES.items():
            response = await h.get(path, token)
            if token_type is not None and accepts in (token_type, "any"):
                assert_ok(response, token_type)
            else:
                assert_401_it(response)
    h.fake.fail("*", "status", status=500)
    h.clerk.clear_caches()
    for token, _ in tokens:
        response = await h.get("/any", token)
        if token.startswith("sk_live_"):  # an unknown prefix never needs Clerk
            assert_401_it(response, Reason.TOKEN_INVALID)
        else:  # every other token needs the keys or the Backend API, and both fail
            assert_503(response)
    decisions = [r for r in caplog.records if hasattr(r, "clerk_fingerprint")]
    assert len(decisions) >= len(tokens) * 6  # every decision was logged, with a fingerprint
    assert all(len(str(r.clerk_fingerprint)) <= 16 for r in decisions)
