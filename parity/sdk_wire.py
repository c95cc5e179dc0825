"""@clerk/backend 3.25.0 as a client of the served fake (``make parity`` runs it after run.py).

Serves one ``FakeClerk`` on 127.0.0.1 with every answer checked against Clerk's OpenAPI spec
(tests/backend/spec_check.py, the vendored subset), runs ``parity/sdk_wire.mjs`` (every endpoint
the fake serves, through the JS SDK), prints each check, then ``N passed, M failed``; exits 1 on
any failure or spec problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake.server import serve_asgi

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "backend"))
from spec_check import SpecChecked

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_bridge import run_script


def main() -> int:
    fake = FakeClerk()
    checked = SpecChecked(fake.app)
    with serve_asgi(checked, "127.0.0.1", 0) as url:
        fake.api_url = url
        config = {
            "apiUrl": url,
            "secretKey": fake.secret_key,
            "machineSecretKey": fake.machine_secret_key,
            "machineId": fake.default_machine_id,
            "oauthToken": fake.oauth_token("opaque", scopes=["email"]),
        }
        results = run_script("sdk_wire.mjs", config)
    failed = [r for r in results if not r["ok"]]
    for result in results:
        print(("ok    " if result["ok"] else "FAIL  ") + result["name"], result["detail"] or "")
    for problem in checked.problems:
        print("SPEC  " + problem)
    operations = sorted({f"{method.upper()} {path}" for method, path, _ in checked.seen})
    print(f"JS SDK against the fake: {len(operations)} spec operations exercised")
    print(f"{len(results) - len(failed)} passed, {len(failed) + len(checked.problems)} failed")
    return 1 if failed or checked.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
