"""The soak's fake Clerk, in its own process: ``python tests/soak/fake_server.py STATE_FILE``.

The packaged fake (``clerk_fastapi.testing.FakeClerk``, what ``python -m clerk_fastapi.testing
serve`` runs) plus a control surface for the soak alone (``/_soak/...``, guarded by the fake's
secret key): mint tokens of every kind, inject and heal faults (``testing/fake/faults.py``),
rotate the signing key, revoke tokens. It writes ``{"url", "secret_key"}`` to STATE_FILE once it
listens, and serves until SIGTERM.
"""

from __future__ import annotations

import hmac
import json
import secrets
import signal
import sys
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clerk_fastapi.testing import FakeClerk


def mint(fake: FakeClerk, kind: str, i: int) -> str:
    if kind == "session":
        return fake.session_token(f"user_s{i}_{secrets.token_hex(3)}", expires_in=7200)
    if kind == "expired":
        return fake.broken_session_token("expired")
    if kind == "bad_signature":
        return fake.broken_session_token("bad_signature")
    if kind == "unknown_kid":
        claims = fake.session_claims(expires_in=7200)
        return fake.sign(claims, {"kid": f"ins_{secrets.token_hex(8)}"})
    if kind == "m2m_jwt":
        return fake.m2m_token("jwt", expires_in=7200)
    if kind == "oauth_jwt":
        return fake.oauth_token("jwt", expires_in=7200)
    if kind == "m2m":
        return fake.m2m_token(expires_in=7200)
    if kind == "oauth":
        return fake.oauth_token("opaque", expires_in=7200)
    if kind == "api_key":
        return fake.api_key()
    if kind == "bad_opaque":
        return secrets.choice(["mt_", "oat_", "ak_"]) + secrets.token_hex(20)
    raise ValueError(kind)


def control(fake: FakeClerk) -> list[Route]:
    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, f"Bearer {fake.secret_key}".encode()):
                return JSONResponse({"error": "unauthorized"}, 401)
            body = json.loads(await request.body() or b"{}")
            return JSONResponse(handler(body))

        return endpoint

    def do_mint(body: dict[str, Any]) -> Any:
        return {"tokens": [mint(fake, body["kind"], i) for i in range(int(body.get("n", 1)))]}

    def do_fail(body: dict[str, Any]) -> Any:
        endpoint = body.pop("endpoint", "*")
        fake.fail(endpoint, body.pop("mode"), **body)
        return {}

    def do_heal(_: dict[str, Any]) -> Any:
        fake.heal()
        return {}

    def do_rotate(_: dict[str, Any]) -> Any:
        return {"kid": fake.rotate_key(keep_old=True, pool_index=1).kid}

    def do_revoke(body: dict[str, Any]) -> Any:
        for token in body["tokens"]:
            fake.revoke(token)
        return {}

    def do_hits(_: dict[str, Any]) -> Any:
        return dict(fake.hits)

    handlers = {
        "mint": do_mint,
        "fail": do_fail,
        "heal": do_heal,
        "rotate": do_rotate,
        "revoke": do_revoke,
        "hits": do_hits,
    }
    return [Route(f"/_soak/{name}", guarded(h), methods=["POST"]) for name, h in handlers.items()]


def main(state_file: str) -> None:
    fake = FakeClerk()
    fake.app.router.routes[:0] = control(fake)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake.serve() as url:
        with open(state_file, "w") as f:
            json.dump({"url": url, "secret_key": fake.secret_key}, f)
        stop.wait()


if __name__ == "__main__":
    main(sys.argv[1])
