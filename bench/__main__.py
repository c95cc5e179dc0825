"""``make bench``: one run, loopback only, writes docs/benchmarks.md, docs/img/bench-rps.png and
bench/results.json. Peers run from a separate virtualenv (bench/.venv-peers), never from ours."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.calling_side import calling_side
from clerk_fastapi import Clerk
from clerk_fastapi.jose.compact import b64url_decode
from clerk_fastapi.testing import FakeClerk, SigningKey

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / ".venv-peers"
QUICK = os.environ.get("BENCH_QUICK") == "1"  # the smoke test's reduced mode
WRK_SECONDS = 1 if QUICK else 5


# -- helpers ------------------------------------------------------------------------------------


def median_spread(runs: list[float]) -> dict[str, float]:
    return {
        "median_us": round(statistics.median(runs), 2),
        "spread_us": round(max(runs) - min(runs), 2),
    }


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    runs = []
    for _ in range(3 if QUICK else 7):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - started) / n * 1e6)
    return runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_peers() -> Path | None:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "fastapi-clerk-auth==0.0.9",
                "clerk-backend-api==7.0.0",
                "uvicorn",
                "matplotlib",
            ],
            check=True,
        )
    return python


def peer(command: str, **args: Any) -> Any:
    python = ensure_peers()
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "peers.py"), command, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- 1. per call ----------------------------------------------------------------------------------


def per_call(fake: FakeClerk) -> dict[str, Any]:
    clerk = fake.clerk()
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    session = fake.session_token(expires_in=3600)
    m2m = fake.m2m_token("jwt")
    oauth = fake.oauth_token("jwt")
    for token, kind in ((session, "session_token"), (m2m, "m2m_token"), (oauth, "oauth_token")):
        assert run(clerk.authenticate_token(token, kind)).status == "signed-in"
    head, _, sig = session.rpartition(".")
    public = fake.signing_key.private_key.public_key()
    signature, message = b64url_decode(sig), head.encode()

    def floor() -> None:
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

    def in_loop(step: Callable[[], Any], n: int) -> list[float]:
        """Time ``n`` awaited calls inside one coroutine (no per-call event-loop start-up)."""

        async def batch() -> float:
            started = time.perf_counter()
            for _ in range(n):
                await step()
            return (time.perf_counter() - started) / n * 1e6

        return [run(batch()) for _ in range(3 if QUICK else 7)]

    accepts = {
        k: clerk.authenticator.normalize(k) for k in ("session_token", "m2m_token", "oauth_token")
    }

    def cold(token: str, kind: str) -> Callable[[], Any]:
        async def go() -> None:
            clerk.authenticator.clear()
            await clerk.authenticate_token(token, accepts[kind])

        return go

    async def cached() -> None:
        await clerk.authenticate_token(session, accepts["session_token"])

    import jwt as pyjwt

    pyjwk = pyjwt.PyJWK(fake.signing_key.public_jwk())

    def plain_pyjwt() -> None:
        pyjwt.decode(session, key=pyjwk, algorithms=["RS256"], options={"verify_aud": False})

    n = 300 if QUICK else 3000
    results = {
        "raw RSA-2048 verify (floor)": median_spread(timed(floor, n)),
        "clerk-fastapi session, cold": median_spread(in_loop(cold(session, "session_token"), n)),
        "clerk-fastapi session, cached": median_spread(in_loop(cached, n)),
        "clerk-fastapi M2M JWT, cold": median_spread(in_loop(cold(m2m, "m2m_token"), n)),
        "clerk-fastapi OAuth JWT, cold": median_spread(in_loop(cold(oauth, "oauth_token"), n)),
        "PyJWT decode, pre-built key": median_spread(timed(plain_pyjwt, n)),
    }
    with fake.serve() as url:
        peers = peer(
            "percall",
            token=session,
            pem=fake.signing_key.public_pem(),
            jwks_url=f"{url}/v1/jwks",
            secret=fake.secret_key,
            azp=fake.authorized_party,
        )
    results["official SDK, networkless (jwt_key)"] = median_spread(
        peers["official_sdk_networkless"]
    )
    results["fastapi-clerk-auth"] = median_spread(peers["fastapi_clerk_auth"])
    loop.close()
    return results


# -- 2. whole app under wrk ------------------------------------------------------------------------


@contextlib.contextmanager
def app_server(module: str, env: dict[str, str], python: str = sys.executable) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            f"{module}:create_app",
            "--factory",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT / "bench" if "peers" in module else ROOT,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/docs", timeout=0.5)
            break
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wrk(url: str, token: str, connections: int = 50) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{WRK_SECONDS}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url + "/s",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": round(rps),
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def whole_app(fake: FakeClerk, url: str) -> dict[str, Any]:
    token = fake.session_token(expires_in=3600)
    ours = {"CLERK_API_URL": url, "CLERK_SECRET_KEY": fake.secret_key}
    peers_env = {
        "BENCH_JWKS_URL": f"{url}/v1/jwks",
        "BENCH_SECRET": fake.secret_key,
        "BENCH_PEM": fake.signing_key.public_pem(),
        "BENCH_AZP": fake.authorized_party,
    }
    python = str(ensure_peers())
    configs: list[tuple[str, str, dict[str, str], str]] = [
        ("no auth (ceiling)", "bench.apps", {"BENCH_APP": "noauth"}, sys.executable),
        ("clerk-fastapi Auth()", "bench.apps", {**ours, "BENCH_APP": "session"}, sys.executable),
        (
            'clerk-fastapi Auth(accepts="any")',
            "bench.apps",
            {**ours, "BENCH_APP": "any"},
            sys.executable,
        ),
        (
            "clerk-fastapi, three Auth dependencies",
            "bench.apps",
            {**ours, "BENCH_APP": "three"},
            sys.executable,
        ),
        ("fastapi-clerk-auth", "peers", {**peers_env, "BENCH_PEER": "fastapi_clerk_auth"}, python),
        ("official SDK in a dependency", "peers", {**peers_env, "BENCH_PEER": "sdk"}, python),
    ]
    results: dict[str, Any] = {}
    for name, module, env, interpreter in configs:
        with app_server(module, env, interpreter) as app_url:
            wrk(app_url, token, 10)  # warm-up (JWKS, caches)
            results[name] = wrk(app_url, token)
    ceiling = results["no auth (ceiling)"]["rps"]
    for value in results.values():
        value["ratio_to_ceiling"] = round(value["rps"] / ceiling, 3)
    # Concurrency growth on the session route.
    growth = {}
    with app_server("bench.apps", {**ours, "BENCH_APP": "session"}) as app_url:
        for connections in (1, 16, 64, 256):
            growth[str(connections)] = wrk(app_url, token, connections)
    return {"apps": results, "concurrency": growth}


# -- 3. growth --------------------------------------------------------------------------------------


def growth(fake: FakeClerk) -> dict[str, Any]:
    clerk = fake.clerk()
    loop = asyncio.new_event_loop()
    out: dict[str, Any] = {"distinct_tokens": {}, "jwks_keys": {}}
    sizes = (1, 100, 1000) if QUICK else (1, 1000, 10000)
    pool = [fake.session_token(f"user_{i}", expires_in=3600) for i in range(max(sizes))]
    for size in sizes:
        clerk.clear_caches()
        loop.run_until_complete(clerk.authenticate_token(pool[0]))  # JWKS warm
        clerk.authenticator.clear()
        verified = clerk.authenticator.verifications
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        started = time.perf_counter()
        requests = 0
        for _ in range(2):  # each token twice: the second is a cache hit
            for token in pool[:size]:
                loop.run_until_complete(clerk.authenticate_token(token))
                requests += 1
        elapsed = time.perf_counter() - started
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
        out["distinct_tokens"][str(size)] = {
            "hit_rate": round(1 - (clerk.authenticator.verifications - verified) / requests, 3),
            "us_per_request": round(elapsed / requests * 1e6, 1),
            "bytes_per_cached_entry": round(grown / size),
        }
    for keys in (1, 5, 20):
        extra = [
            SigningKey.generate(f"ins_extra{i}", pool_index=10 + i % 4).public_jwk()
            for i in range(keys - 1)
        ]
        fake.jwks_override = {"keys": [*extra, fake.signing_key.public_jwk()]}
        clerk.clear_caches()
        token = pool[0]
        loop.run_until_complete(clerk.authenticate_token(token))

        def cold(token: str = token) -> None:
            clerk.authenticator.clear()
            loop.run_until_complete(clerk.authenticate_token(token))

        out["jwks_keys"][str(keys)] = median_spread(timed(cold, 300 if QUICK else 2000))
    fake.jwks_override = None
    loop.close()
    return out


# -- 4. opaque tokens with 20 ms of upstream latency -------------------------------------------------


def opaque(fake: FakeClerk, url: str) -> dict[str, Any]:
    fake.fail("m2m_verify", "slow", delay=0.02)
    results: dict[str, Any] = {}

    async def load(clerk: Clerk, tokens: list[str], concurrency: int = 50) -> tuple[float, int]:
        from fastapi import Depends, FastAPI

        from clerk_fastapi import Auth

        app = FastAPI()
        app.state.clerk = clerk

        @app.get("/s")
        async def route(auth: Any = Depends(Auth(accepts="m2m_token"))) -> dict[str, str]:
            return {"m": auth.machine_id}

        sem = asyncio.Semaphore(concurrency)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def one(token: str) -> None:
                async with sem:
                    response = await client.get("/s", headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200

            started = time.perf_counter()
            await asyncio.gather(*(one(t) for t in tokens))
            return time.perf_counter() - started, len(tokens)

    hot = fake.m2m_token()
    distinct = [fake.m2m_token() for _ in range(100 if QUICK else 500)]
    for label, ttl in (("cache off", 0), ("cache on (30 s)", 30)):
        for workload, tokens in (
            ("one hot token", [hot] * len(distinct)),
            ("distinct tokens", distinct),
        ):
            fake.reset_counters()
            clerk = fake.clerk(use_network=True, machine_token_cache_ttl=ttl)
            elapsed, n = asyncio.run(load(clerk, tokens))
            results[f"{workload}, {label}"] = {
                "requests": n,
                "rps": round(n / elapsed),
                "backend_api_calls": fake.hits["m2m_verify"],
            }
    # One burst of 50 concurrent requests with one uncached token: one call (coalescing).
    fake.reset_counters()
    burst_token = fake.m2m_token()
    asyncio.run(load(fake.clerk(use_network=True), [burst_token] * 50, 50))
    results["50 concurrent, one token, cache off"] = {"backend_api_calls": fake.hits["m2m_verify"]}
    fake.heal()
    return results


# -- 5. outage ------------------------------------------------------------------------------------


def outage(fake: FakeClerk) -> dict[str, Any]:
    timeout = 2.0
    results: dict[str, Any] = {}
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused

    async def ours(settings: dict[str, Any], token: str, accepts: str) -> dict[str, Any]:
        clerk = Clerk(api_url=dead, secret_key=fake.secret_key, http_timeout=timeout, **settings)
        started = time.monotonic()
        state = await clerk.authenticate_token(token, accepts)
        return {
            "seconds": round(time.monotonic() - started, 3),
            "answer": "503" if state.error == "unavailable" else str(state.status),
        }

    session = fake.session_token(expires_in=3600)
    results["clerk-fastapi, JWKS dead, cold cache"] = asyncio.run(
        ours({}, session, "session_token")
    )
    results["clerk-fastapi, verify endpoint dead"] = asyncio.run(
        ours({}, fake.m2m_token(), "m2m_token")
    )
    # A black hole (accepts, never answers): the deadline, not the OS, ends the wait.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(100)
        slow = f"http://127.0.0.1:{hole.getsockname()[1]}"

        async def hang() -> dict[str, Any]:
            clerk = Clerk(api_url=slow, secret_key=fake.secret_key, http_timeout=timeout)
            started = time.monotonic()
            state = await clerk.authenticate_token(fake.m2m_token(), "m2m_token")
            return {
                "seconds": round(time.monotonic() - started, 3),
                "answer": "503" if state.error == "unavailable" else state.status,
            }

        results["clerk-fastapi, verify endpoint hangs"] = asyncio.run(hang())
        peers = peer(
            "outage",
            jwks_url=f"{slow}/v1/jwks",
            secret=fake.secret_key,
            token=session,
            cap=5.0 if QUICK else 30.0,
        )
    results["official SDK, JWKS hangs (cap)"] = peers["official_sdk"]
    results["fastapi-clerk-auth, JWKS hangs (cap)"] = peers["fastapi_clerk_auth"]
    return results


# -- report ---------------------------------------------------------------------------------------


def write_report(results: dict[str, Any]) -> None:
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2))
    pc = results["per_call"]
    floor = pc["raw RSA-2048 verify (floor)"]["median_us"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {results['machine']} (loopback only). Medians of repeated runs;",
        "the spread is max - min of the run medians. Re-run `make bench` to regenerate this page.",
        "",
        "## Per call",
        "",
        "| path | µs (median) | spread | × raw RSA |",
        "|---|---|---|---|",
    ]
    for name, value in pc.items():
        lines.append(
            f"| {name} | {value['median_us']} | {value['spread_us']} | {value['median_us'] / floor:.2f} |"
        )
    if "whole_app" in results:
        lines += [
            "",
            "## Whole app (uvicorn, one worker, wrk -t2 -c50)",
            "",
            "| app | requests/s | p50 ms | p99 ms | × ceiling |",
            "|---|---|---|---|---|",
        ]
        for name, value in results["whole_app"]["apps"].items():
            lines.append(
                f"| {name} | {value['rps']} | {value['p50_ms']} | {value['p99_ms']} | {value['ratio_to_ceiling']} |"
            )
        lines += [
            "",
            "![Requests per second](img/bench-rps.png)",
            "",
            "Concurrency (session route): "
            + ", ".join(
                f"{c} conns: {v['rps']} rps, p99 {v['p99_ms']} ms"
                for c, v in results["whole_app"]["concurrency"].items()
            ),
        ]
    g = results["growth"]
    lines += [
        "",
        "## Growth",
        "",
        "Each distinct token sent twice (the second time is a cache hit); measured under",
        "tracemalloc, one event-loop run per call, so the µs include that overhead.",
        "",
        "| distinct tokens | cache hit rate | µs per request | bytes per cached entry |",
        "|---|---|---|---|",
    ]
    for size, value in g["distinct_tokens"].items():
        lines.append(
            f"| {size} | {value['hit_rate']} | {value['us_per_request']} | {value['bytes_per_cached_entry']} |"
        )
    lines += ["", "| JWKS keys | cold session verification µs |", "|---|---|"]
    for keys, value in g["jwks_keys"].items():
        lines.append(f"| {keys} | {value['median_us']} |")
    lines += [
        "",
        "## Opaque tokens, 20 ms of Backend API latency (50 concurrent)",
        "",
        "| workload | requests | requests/s | Backend API calls |",
        "|---|---|---|---|",
    ]
    for name, value in results["opaque"].items():
        lines.append(
            f"| {name} | {value.get('requests', 50)} | {value.get('rps', '')} | {value['backend_api_calls']} |"
        )
    lines += ["", "## Outage", "", "| case | seconds to answer | answer |", "|---|---|---|"]
    for name, value in results["outage"].items():
        lines.append(f"| {name} | {value['seconds']} | {value['answer']} |")
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines) + "\n")


def chart(results: dict[str, Any]) -> None:
    if "whole_app" not in results:
        return
    python = ensure_peers()
    data = {k: v["rps"] for k, v in results["whole_app"]["apps"].items()}
    script = (
        "import json,sys\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "d=json.loads(sys.argv[1]);fig,ax=plt.subplots(figsize=(8,3.6))\n"
        "ax.barh(list(d)[::-1],list(d.values())[::-1],color='#6c47ff')\n"
        "ax.set_xlabel('requests per second (higher is better)');fig.tight_layout()\n"
        "fig.savefig(sys.argv[2],dpi=110)\n"
    )
    (ROOT / "docs" / "img").mkdir(exist_ok=True)
    subprocess.run(
        [str(python), "-c", script, json.dumps(data), str(ROOT / "docs" / "img" / "bench-rps.png")],
        check=True,
    )


def main() -> None:
    fake = FakeClerk(key_pool_index=None)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print("per call...", flush=True)
    results["per_call"] = per_call(fake)
    with fake.serve() as url:
        if shutil.which("wrk") and not QUICK:
            print("whole app (wrk)...", flush=True)
            results["whole_app"] = whole_app(fake, url)
        print("opaque tokens...", flush=True)
        results["opaque"] = opaque(fake, url)
    print("growth...", flush=True)
    results["growth"] = growth(fake)
    print("outage...", flush=True)
    results["outage"] = outage(fake)
    print("calling side (clerk.m2m.auth)...", flush=True)
    results["calling_side"] = calling_side(FakeClerk(), quick=QUICK)
    chart(results)
    write_report(results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
