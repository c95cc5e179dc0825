"""``__client_uat`` is read exactly as Clerk reads it: ``Number.parseInt(value) || 0`` with no
radix (``@clerk/backend`` 3.25.0, ``authenticateContext.initCookieValues``), so ``0x10`` is 16.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from clerk_fastapi import SessionDep
from clerk_fastapi.auth.cookies import parse_int
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("0x10", 16),
        ("0X1f", 31),
        ("+0x10", 16),
        ("-0x10", -16),
        ("0x", 0),  # NaN || 0
        ("0xg", 0),
        ("0b101", 0),
        ("1e3", 1),
        ("123abc", 123),
        ("-5", -5),
        ("\u00a0\u2028 42", 42),  # ECMAScript white space, not only ASCII
        ("\u200b42", 0),  # a zero-width space is not white space in ECMAScript
        ("0" * 5000 + "7", 7),
        ("9" * 400, float("inf")),
        ("0x" + "f" * 300, float("inf")),
        ("", 0),
        (None, 0),
    ],
)
def test_parse_int_is_javascripts(value: str | None, number: float) -> None:
    assert parse_int(value) == number


async def test_a_hexadecimal_client_uat_signs_the_session_in_as_clerk_does() -> None:
    fake = FakeClerk(clock=FrozenClock())
    app = FastAPI()
    fake.clerk(session_cookie=True, authorized_parties=[fake.authorized_party]).install(app)

    @app.get("/me")
    async def me(auth: SessionDep) -> dict[str, str]:
        return {"user": str(auth.user_id)}

    token = fake.session_token("user_hex")
    iat = int(fake.clock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:

        async def with_uat(uat: str) -> httpx.Response:
            return await http.get(
                "/me", headers={"cookie": f"__session={token}; __client_uat={uat}"}
            )

        assert (await with_uat("0x10")).status_code == 200  # 16: long before the token's iat
        later = await with_uat(f"0x{iat + 30:x}")  # after the token was issued: refused
        assert later.status_code == 401
        assert later.json()["detail"]["reason"] == "session-token-iat-before-client-uat"
        assert (await with_uat("0x")).status_code == 401  # NaN || 0: no active client
