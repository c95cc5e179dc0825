"""What the fake refuses, as Clerk's spec says: 400 (not 422) with Clerk's error body for
parameters outside the spec, and never a 500 for any input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from spec_check import SpecChecked

from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio

ORG = "org_" + "o" * 27


async def _call(
    fake: FakeClerk, checked: SpecChecked, method: str, path: str, key: str, **kwargs: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=checked)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake.test") as http:
        return await http.request(
            method, path, headers={"Authorization": f"Bearer {key}"}, **kwargs
        )


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("POST", "/api_keys", {"subject": ORG}, "form_param_missing"),  # no name: was 422
        ("POST", "/api_keys", {"name": "ab", "subject": ORG}, "form_param_value_invalid"),
        ("POST", "/api_keys", {"name": " key", "subject": ORG}, "form_param_value_invalid"),
        ("POST", "/api_keys", {"name": "key", "subject": "user_1"}, "form_param_value_invalid"),
        ("POST", "/api_keys", {"name": "key", "subject": ORG, "x": 1}, "form_param_unknown"),
        (
            "POST",
            "/api_keys",
            {"name": "key", "subject": ORG, "created_by": "user_1"},
            "form_param_value_invalid",
        ),
        (
            "POST",
            "/v1/api_keys",
            {"name": "key", "subject": ORG, "seconds_until_expiration": 1e308},
            "form_param_value_invalid",
        ),
        ("GET", "/api_keys", None, "form_param_missing"),  # no subject: was 422
        ("GET", "/api_keys?subject=user_2test", None, "form_param_value_invalid"),
        ("GET", f"/api_keys?subject={ORG}&limit=0", None, "form_param_value_invalid"),
        ("GET", f"/api_keys?subject={ORG}&limit=2.5", None, "form_param_value_invalid"),
        ("GET", f"/api_keys?subject={ORG}&offset=nan", None, "form_param_value_invalid"),
        ("GET", f"/api_keys?subject={ORG}&include_invalid=yes", None, "form_param_value_invalid"),
        ("GET", "/api_keys/ak_1", None, "form_param_value_invalid"),
        ("GET", "/api_keys/ak_" + "0" * 32, None, "resource_not_found"),
        ("PATCH", "/api_keys/ak_" + "0" * 32, {}, "resource_not_found"),
        ("GET", "/m2m_tokens", None, "form_param_missing"),  # no subject: was 422
        ("GET", "/m2m_tokens?subject=mch_1", None, "form_param_value_invalid"),
        ("POST", "/m2m_tokens/mt_1/revoke", {}, "form_param_value_invalid"),
        ("POST", "/api_keys/verify", {}, "form_param_missing"),
        ("POST", "/api_keys/verify", {"secret": "ak_nope"}, "resource_not_found"),
        ("POST", "/v1/m2m_tokens/verify", {"token": "mt_nope"}, "resource_not_found"),
        ("GET", "/machines?limit=abc", None, "form_param_value_invalid"),
    ],
)
async def test_refusals_are_clerks(method: str, path: str, body: Any, code: str) -> None:
    fake = FakeClerk(clock=FrozenClock())
    checked = SpecChecked(fake.app)
    answer = await _call(fake, checked, method, path, fake.secret_key, json=body)
    expected = 404 if code == "resource_not_found" else 422 if "/machines" in path else 400
    assert answer.status_code == expected
    assert answer.json()["errors"][0]["code"] == code
    assert checked.problems == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        '{"seconds_until_expiration": 1e400}',
        {"seconds_until_expiration": "600"},
        {"seconds_until_expiration": True},
        {"seconds_until_expiration": 0},
        {"min_remaining_ttl_seconds": -1},
        {"min_remaining_ttl_seconds": 1.5},
        {"claims": [1]},
        {"token_format": "paseto"},
        {"seconds_until_expiration": 60, "min_remaining_ttl_seconds": 60},
    ],
)
async def test_m2m_create_refuses_without_a_500(body: Any) -> None:
    fake = FakeClerk()
    checked = SpecChecked(fake.app)
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
    answer = await _call(fake, checked, "POST", "/m2m_tokens", fake.machine_secret_key, **kwargs)
    assert answer.status_code == 400 and answer.json()["clerk_trace_id"]
    assert checked.problems == []


async def test_numbers_as_floats_are_numbers() -> None:
    """``seconds_until_expiration=600.0`` (the Python SDK) was a 422; ``limit=2.0&offset=0.0``
    was ignored (10 items from offset 0)."""
    fake = FakeClerk(clock=FrozenClock())
    checked = SpecChecked(fake.app)
    key = fake.machine_secret_key
    for _ in range(3):
        made = await _call(
            fake, checked, "POST", "/m2m_tokens", key, json={"seconds_until_expiration": 600.0}
        )
        assert made.status_code == 201
    subject = fake.default_machine_id
    listed = await _call(
        fake, checked, "GET", f"/m2m_tokens?subject={subject}&limit=2.0&offset=1.0", key
    )
    assert len(listed.json()["m2m_tokens"]) == 2 and listed.json()["total_count"] == 3
    assert checked.problems == []
