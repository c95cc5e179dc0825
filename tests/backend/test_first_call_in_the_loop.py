"""An app's first call to Clerk builds nothing heavy inside the event loop: the CA bundle is
loaded, and anyio's asyncio backend imported, when the ``Clerk`` is made (bench row 8 times the
loop's lag; here we only check what is imported where, which no busy machine can flake)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, socket, sys
    hole = socket.socket(); hole.bind(("127.0.0.1", 0)); port = hole.getsockname()[1]
    hole.close()  # nothing listens: Clerk is down
    import httpx
    from fastapi import Depends, FastAPI
    from clerk_fastapi import Auth, Clerk
    clerk = Clerk(secret_key="sk_test_" + "b" * 40, api_url=f"http://127.0.0.1:{port}",
                  http_timeout=2.0)
    app = FastAPI(lifespan=clerk.lifespan)  # never run: no warm-up

    @app.get("/s")
    async def protected(user=Depends(Auth())):
        return {}

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            await client.get("/s")  # FastAPI's own first request: no token, no call to Clerk
            before = set(sys.modules)
            response = await client.get("/s", headers={"Authorization": "Bearer " + sys.argv[1]})
        return response.status_code, sorted(set(sys.modules) - before)

    print(json.dumps(asyncio.run(main())))
    """
)


def test_the_first_call_to_clerk_imports_no_anyio_backend_in_the_loop() -> None:
    from clerk_fastapi.testing import FakeClerk

    token = FakeClerk().session_token()
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, token], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    status, imported = json.loads(run.stdout.strip().splitlines()[-1])
    assert status == 503  # Clerk down: never 401
    assert [name for name in imported if name.startswith("anyio")] == []
