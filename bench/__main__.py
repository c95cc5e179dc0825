"""``make bench`` (``python -m bench``): every row of issue 17's table in one run, side by side.

Loopback only. The fake Clerk serves the JWKS from this process; the apps under load run in
their own uvicorn processes (one worker each, all started once); the load generator is ``wrk``
(with ``bench/rotate.lua`` for a different token on every request) or, without it,
``bench/loadgen.py``. Whole-app and in-process measurements are repeated and interleaved
(``BENCH_REPS``, default 7, at least 3) and medians reported with their range.

Writes ``bench/results.json``, ``docs/benchmarks.md``, the charts in ``docs/img/`` and the
targets table in ``docs/performance.md``. ``BENCH_QUICK=1``: a reduced run (small pool, short
loads, one repetition) for the smoke test; ``BENCH_OUT=DIR`` writes ``results.json``, the page and
the charts to DIR instead and leaves the docs alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import breakdown, inproc, inserver, report
from bench.calling_side import calling_side
from bench.tokens import mint, signing_key, token_pool
from clerk_fastapi.testing import FakeClerk

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = 1 if QUICK else max(3, int(os.environ.get("BENCH_REPS", "7")))
LOAD_SECONDS = 1 if QUICK else int(os.environ.get("BENCH_SECONDS", "3"))
CONNECTIONS = 50
WRK_THREADS = 2
POOL = 1_000 if QUICK else 20_000
COLD_CALLS = 200 if QUICK else 1_000
COLD_REPS = 1 if QUICK else max(REPS, 9)
# (entries, cache bound: 0 for the default, inserts during the churn run)
MEMORY_CASES = (
    [(2_000, 2_000, 1_000)] if QUICK else [(100_000, 100_000, 40_000), (10_000, 0, 20_000)]
)
EVICTION = (
    {"every": 100, "one_offs": 600, "bound": 200}
    if QUICK
    else {"every": 100, "one_offs": 19_000, "bound": 0}
)
OUTAGE_TIMEOUT = 0.5 if QUICK else 2.0

APPS = ("noauth", "header", "pyjwt", "session", "any", "scoped")
# The interleaved runs, (workload, app), in groups whose members are compared with each other:
# a group runs back to back (its ratios see the same machine), starting with a different member
# each repetition. "rotating": a different valid token on every request.
GROUPS = [
    [("rotating", "pyjwt"), ("rotating", "session")],
    [
        ("same", "header"),
        ("same", "session"),
        ("same", "any"),
        ("same", "scoped"),
        ("same", "pyjwt"),
        ("same", "noauth"),
    ],
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- load generation ------------------------------------------------------------------------------


def load_generator() -> str:
    wanted = os.environ.get("BENCH_LOADGEN", "auto")
    if wanted == "python" or (wanted == "auto" and not shutil.which("wrk")):
        return "python"
    return "wrk"


@dataclass
class Loader:
    kind: str
    tokens_file: Path
    # Where each app's rotation goes on: every app walks the whole pool before any repeat.
    offsets: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        if self.kind == "wrk":
            version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
            name = (version.split() or ["wrk"])[:2]
            return (
                f"{' '.join(name)} -t{WRK_THREADS} -c{CONNECTIONS} -d{LOAD_SECONDS}s "
                "(bench/rotate.lua for rotating tokens)"
            )
        return (
            f"bench/loadgen.py (Python asyncio, keep-alive, {CONNECTIONS} connections, {LOAD_SECONDS} s): "
            + ("(BENCH_LOADGEN=python)" if shutil.which("wrk") else "wrk was not found")
        )

    def run(
        self, url: str, *, token: str | None = None, seconds: int = LOAD_SECONDS
    ) -> dict[str, Any]:
        """One load run against ``url``/s: the same ``token`` every time, else rotating."""
        if self.kind == "wrk":
            return self._wrk(url, token, seconds)
        return self._python(url, token, seconds)

    def _wrk(self, url: str, token: str | None, seconds: int) -> dict[str, Any]:
        offset = self.offsets.get(url, 0)
        command = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
        if token is None:
            script = str(ROOT / "bench" / "rotate.lua")
            command += [
                "-s",
                script,
                url + "/s",
                "--",
                str(self.tokens_file),
                str(offset),
                str(WRK_THREADS),
            ]
        else:
            command += ["-H", f"Authorization: Bearer {token}", url + "/s"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

        def number(pattern: str) -> float:
            match = re.search(pattern, out)
            return float(match.group(1)) if match else 0.0

        def pct(label: str) -> float:
            match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
            if not match:
                return 0.0
            return round(
                float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)], 2
            )

        errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        if token is None:
            self.offsets[url] = int(number(r"NEXT_OFFSET (\d+)"))
        return {
            "requests": int(number(r"(\d+) requests in")),
            "rps": round(number(r"Requests/sec:\s+([\d.]+)")),
            "p50_ms": pct("50"),
            "p99_ms": pct("99"),
            "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        }

    def _python(self, url: str, token: str | None, seconds: int) -> dict[str, Any]:
        offset = self.offsets.get(url, 0)
        command = [sys.executable, "-m", "bench.loadgen", url, str(seconds), str(CONNECTIONS)]
        if token is None:
            command += ["--tokens", str(self.tokens_file), "--offset", str(offset)]
        else:
            command += ["--token", token]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        if token is None:
            self.offsets[url] = offset + int(result["requests"]) + CONNECTIONS
        result["socket_errors"] = 0
        return result


# -- the apps -------------------------------------------------------------------------------------


def server_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` so far (Linux ``/proc``; else ``None``)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def app_server(app: str, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.apps:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "BENCH_APP": app},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/s", timeout=1.0)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {app} app did not start") from None
                time.sleep(0.1)
        yield Server(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def verifications(url: str) -> int:
    return int(httpx.get(url + "/_bench/stats", timeout=5).json()["verifications"])


def app_env(fake: FakeClerk, clerk_url: str) -> dict[str, str]:
    return {
        # A quick run's pool is small: shrink the cache so rotating tokens still miss it.
        **({"CLERK_SESSION_CACHE_SIZE": str(POOL // 4)} if QUICK else {}),
        "CLERK_API_URL": clerk_url,
        "CLERK_SECRET_KEY": fake.secret_key,
        "BENCH_JWK": json.dumps(fake.signing_key.public_jwk()),
    }


def whole_app(fake: FakeClerk, clerk_url: str, loader: Loader, token: str) -> dict[str, Any]:
    env = app_env(fake, clerk_url)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with contextlib.ExitStack() as stack:
        servers = {app: stack.enter_context(app_server(app, env)) for app in APPS}
        for server in servers.values():  # warm-up: JWKS, imports, the first-request paths
            loader.run(server.url, token=token, seconds=1)
        log(f"apps up and warm: {', '.join(APPS)}")
        for rep in range(REPS):
            order = [
                run
                for group in GROUPS
                for run in group[rep % len(group) :] + group[: rep % len(group)]
            ]
            for workload, app in order:
                url = servers[app].url
                before = verifications(url) if app not in ("noauth", "header", "pyjwt") else None
                cpu_before = server_cpu_seconds(servers[app].pid)
                result = loader.run(url, token=None if workload == "rotating" else token)
                cpu_after = server_cpu_seconds(servers[app].pid)
                if cpu_before is not None and cpu_after is not None and result["requests"]:
                    # The server's own CPU per request: steadier than req/s on a shared machine
                    # (time the server spends descheduled does not count).
                    result["cpu_us_per_request"] = round(
                        (cpu_after - cpu_before) / result["requests"] * 1e6, 1
                    )
                if before is not None:
                    done = verifications(url) - before
                    result["verified_fraction"] = round(done / max(1, result["requests"]), 3)
                runs.setdefault(workload, {}).setdefault(app, []).append(result)
                log(
                    f"rep {rep + 1}/{REPS} {workload:8} {app:8} {result['rps']:>6} req/s  p99 {result['p99_ms']} ms"
                )
    return {"runs": runs}


# -- subprocess rows ------------------------------------------------------------------------------


def python_json(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def memory() -> list[dict[str, Any]]:
    results = []
    for entries, bound, inserts in MEMORY_CASES:
        case = python_json("bench.memory", str(entries), "rss", str(bound), str(inserts))
        traced = python_json("bench.memory", str(entries), "tracemalloc", str(bound), "0")
        case["bytes_per_result"] = traced["bytes_per_result"]
        log(
            f"{entries} cached results: {case['bytes_per_result']} B/result (RSS {case['rss_bytes_per_result']}), "
            f"full GC +{case['full_gc_cache_ms']} ms, longest GC pause {case['churn']['longest_gc_pause_ms']} ms"
        )
        results.append(case)
    return results


def first_request(token: str) -> dict[str, Any]:
    out = {}
    for mode in ("refused", "hang"):
        out[mode] = python_json("bench.firstreq", mode, token, str(OUTAGE_TIMEOUT))
        log(f"first request, Clerk {mode}: {out[mode]}")
    return out


# -- the Python peers (BENCH_PEERS=1) -----------------------------------------------------------

PEERS = ROOT / "bench" / ".venv-peers"


def peer(command: str, **args: Any) -> Any:
    """Run ``bench/peers.py`` in its own virtualenv (installed on first use)."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        packages = ["fastapi-clerk-auth==0.0.9", "clerk-backend-api==7.0.0"]
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "peers.py"), command, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peers(fake: FakeClerk, token: str) -> dict[str, Any]:
    """fastapi-clerk-auth and the official SDK: µs per call (same token), and their answer when
    the JWKS endpoint accepts connections and never answers (capped)."""
    with fake.serve() as url:
        per_call = peer(
            "percall",
            token=token,
            pem=fake.signing_key.public_pem(),
            jwks_url=f"{url}/v1/jwks",
            secret=fake.secret_key,
            azp=fake.authorized_party,
        )
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(100)
        slow = f"http://127.0.0.1:{hole.getsockname()[1]}"
        outage = peer(
            "outage", jwks_url=f"{slow}/v1/jwks", secret=fake.secret_key, token=token, cap=30.0
        )
    return {"per_call_us": per_call, "jwks_hangs": outage}


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    started = time.monotonic()
    out_dir = Path(os.environ["BENCH_OUT"]) if os.environ.get("BENCH_OUT") else None
    results: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "quick": QUICK,
        "repetitions": REPS,
        "connections": CONNECTIONS,
    }
    log(f"load average at start: {results['load_average_at_start']}")
    fake = FakeClerk(signing_key=signing_key())
    pool = token_pool(fake, POOL)
    log(
        f"{POOL} tokens "
        + (
            f"minted in {pool.minted_seconds:.1f} s"
            if pool.minted_seconds
            else f"from {pool.path.name}"
        )
    )
    hot = mint(fake, 1, 3600, prefix="user_hot")[0]
    same = mint(fake, 1, 3600, prefix="user_same")[0]
    results["pool"] = {
        "tokens": POOL,
        "minted_seconds": round(pool.minted_seconds, 1),
        "cached": not pool.minted_seconds,
    }

    loader = Loader(load_generator(), pool.path)
    results["load_generator"] = loader.describe()
    log(f"load generator: {results['load_generator']}")
    with fake.serve() as clerk_url:
        results["whole_app"] = whole_app(fake, clerk_url, loader, same)
        log("whole requests in-process (where row 1's time goes)")
        results["in_app"] = breakdown.requests(fake, clerk_url, pool.tokens, REPS)
        log(f"in-process requests: {results['in_app']}")

    log("cold verification in-process (rows 2 and 3)")
    results["cold_us"] = inproc.cold_calls(fake, pool.tokens, COLD_REPS, COLD_CALLS)
    log(f"cold µs per call: { {k: v for k, v in results['cold_us'].items()} }")
    log("where a cold call's time goes (rows 2 and 3)")
    results["breakdown"] = breakdown.stages(fake, pool.tokens[-COLD_CALLS:], COLD_REPS)
    log(f"breakdown: {results['breakdown']}")

    log("eviction (row 7)")
    bound = {"session_cache_size": EVICTION["bound"]} if EVICTION["bound"] else {}
    results["eviction"] = inproc.eviction(
        fake, hot, pool.tokens[: EVICTION["one_offs"]], EVICTION["every"], **bound
    )
    log(f"eviction: {results['eviction']}")

    log("memory and GC pauses (row 6)")
    results["memory"] = memory()
    log("first request with Clerk down (row 8)")
    results["first_request"] = first_request(same)

    log("calling side: clerk.m2m.auth() vs a bare httpx call (issue 19)")
    results["calling_side"] = calling_side(FakeClerk(), quick=QUICK)
    log(f"calling side: {results['calling_side']}")

    # Last: its extra minute of load must not precede the in-process rows.
    log("inside the running server (where rows 1 and 4's time goes)")
    with fake.serve() as clerk_url:
        results["in_server"] = inserver.profile(
            app_env(fake, clerk_url), loader, app_server, same, REPS, log
        )
    log(f"in the server, µs per request: {results['in_server']['us_per_request']}")

    if os.environ.get("BENCH_PEERS") == "1":
        log("Python peers (BENCH_PEERS=1)")
        results["peers"] = peers(fake, same)
        log(f"peers: {results['peers']}")

    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.monotonic() - started, 1)
    results["rows"] = report.rows(results)
    report.write(results, ROOT, out_dir)
    print(report.table(results["rows"]))
    log(
        f"done in {results['seconds']} s (load average {results['load_average_at_start']} at start, {results['load_average_at_end']} at end)"
    )


if __name__ == "__main__":
    main()
