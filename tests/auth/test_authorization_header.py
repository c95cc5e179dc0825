"""The one read of the header (``read_authorization``) answers exactly what Clerk's rules
(``parse_authorization``) and ``token_digest`` answer, for the header shapes its raw-bytes path
takes and those it leaves to ``parse_authorization``: a cache key that differed from the one
``forget_token`` computes would keep a revoked token alive."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from clerk_fastapi.auth.credentials import (
    MALFORMED,
    NOTHING,
    parse_authorization,
    read_authorization,
)
from clerk_fastapi.kinds.base import token_digest

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln"

HEADERS = [
    [f"Bearer {TOKEN}"],
    [f"bearer {TOKEN}"],
    [f"BEARER {TOKEN}"],
    [TOKEN],
    [f"Bearer {TOKEN}\t"],
    [f"Bearer {TOKEN} "],
    [f"Bearer  {TOKEN}"],
    [f"Bearer {TOKEN} extra"],
    [f"Bearer {TOKEN}\tx"],
    ["Bearer tok\u00e9n"],
    ["Bearer "],
    ["Bearer"],
    ["Basic dXNlcjpwYXNz"],
    [""],
    [f"Bearer {TOKEN}", f"Bearer {TOKEN}"],
    [],
]


@pytest.mark.parametrize("values", HEADERS)
def test_the_one_pass_read_matches_read_header_and_token_digest(values: list[str]) -> None:
    raw = [(b"host", b"api.test")] + [(b"authorization", v.encode("latin-1")) for v in values]
    request = Request({"type": "http", "method": "GET", "headers": raw})
    presented, digest = read_authorization(request)
    if len(values) == 1:
        expected = parse_authorization(values[0])
    else:
        expected = MALFORMED if values else NOTHING  # two headers: 400; none: no token
    assert presented == expected
    assert type(presented) is type(expected)
    assert digest == (token_digest(expected.token) if expected.token is not None else None)
