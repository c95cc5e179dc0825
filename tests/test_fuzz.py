"""Property-based fuzzing through the HTTP app (hypothesis).

Properties: never a 5xx (no upstream fault is injected here, so not even a 503); never a 2xx for
anything not validly signed; never token text in a header, the body or a log record.
A short fixed-seed run is part of the suite; ``make fuzz`` sets CLERK_FUZZ_EXAMPLES=20000.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clerk_fastapi import Auth
from clerk_fastapi.jose.compact import b64url_encode
from clerk_fastapi.testing import FakeClerk, FrozenClock

EXAMPLES = int(os.environ.get("CLERK_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="CLERK_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NOW = 1_790_000_000


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage() + repr(record.__dict__))


class Target:
    def __init__(self) -> None:
        self.fake = FakeClerk(clock=FrozenClock(NOW))
        self.app = FastAPI()
        self.app.state.clerk = self.fake.clerk(session_cookie=True)

        @self.app.get("/any")
        async def any_route(auth: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
            return {"t": auth.token_type}

        self.valid = self.fake.session_token(issued_ago=0)
        self.capture = Capture()
        logger = logging.getLogger("clerk_fastapi")
        logger.addHandler(self.capture)
        logger.setLevel(logging.DEBUG)
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        )

    def send(self, headers: list[tuple[str, str]]) -> httpx.Response:
        raw = [(name, value.encode("latin-1")) for name, value in headers]  # as a client may send
        return self.loop.run_until_complete(self.client.get("/any", headers=raw))

    def close(self) -> None:
        logging.getLogger("clerk_fastapi").removeHandler(self.capture)
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def target() -> Any:
    t = Target()
    yield t
    t.close()


def check(response: httpx.Response, secret: str, target: Target, *, may_pass: bool) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if not may_pass:
        assert not 200 <= response.status_code < 300, secret
    if len(secret) >= 20:  # shorter strings occur in any response by chance ("application/")
        blob = response.text + json.dumps(dict(response.headers))
        assert secret not in blob
        assert all(secret not in text for text in target.capture.texts[-5:])


header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=300,
)


@FUZZ
@given(value=header_text)
def test_arbitrary_authorization_values(target: Target, value: str) -> None:
    response = target.send([("Authorization", value)])
    check(response, value.partition(" ")[2] or value, target, may_pass=False)


@FUZZ
@given(
    value=header_text,
    cookie=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';,\\"'),
        max_size=200,
    ),
)
def test_arbitrary_cookies(target: Target, value: str, cookie: str) -> None:
    response = target.send([("Cookie", f"__session={cookie}; __client_uat={value[:20]}")])
    check(response, cookie, target, may_pass=False)


@FUZZ
@given(data=st.data())
def test_mutated_valid_tokens(target: Target, data: st.DataObject) -> None:
    token = target.valid
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/!")
    )
    mutated = token[:position] + replacement + token[position + 1 :]
    response = target.send([("Authorization", f"Bearer {mutated}")])
    check(response, mutated, target, may_pass=mutated == token)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
claim_names = st.sampled_from(
    ["sub", "exp", "nbf", "iat", "azp", "sid", "v", "o", "sts", "cat", "typ"]
)


@FUZZ
@given(
    header_extra=st.dictionaries(
        st.sampled_from(["typ", "cat", "kid", "alg", "crit", "x"]), json_values, max_size=3
    ),
    claims=st.dictionaries(claim_names, json_values, max_size=6),
)
def test_signed_tokens_with_odd_json(
    target: Target, header_extra: dict[str, Any], claims: dict[str, Any]
) -> None:
    header = {"alg": "RS256", "kid": target.fake.signing_key.kid, "typ": "JWT", **header_extra}
    payload = {"sub": "user_fuzz", "exp": NOW + 60, "iat": NOW, **claims}
    token = target.fake.signing_key.sign(payload, header)
    response = target.send([("Authorization", f"Bearer {token}")])
    # Validly signed by the instance key: a 200 is allowed only when every rule passes.
    check(response, token, target, may_pass=True)
    if response.status_code == 200:
        assert isinstance(payload.get("sub"), str) and payload["sub"]
        assert type(payload.get("exp")) in (int, float) and payload["exp"] > NOW - 5


@FUZZ
@given(segments=st.lists(st.binary(max_size=64), min_size=1, max_size=5))
def test_random_segments(target: Target, segments: list[bytes]) -> None:
    token = ".".join(b64url_encode(s) for s in segments)
    response = target.send([("Authorization", f"Bearer {token}")])
    check(response, token, target, may_pass=False)
