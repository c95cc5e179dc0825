"""Where a cold request's time goes inside the running server (issue 23).

The in-process rows time authentication in a loop; under load the server pays more for the same
request. Here each app runs in uvicorn (one worker, ``BENCH_PROFILE=1``: see ``bench/apps.py``)
under the same rotating-token load, and the server itself accounts for its CPU time per request:

- ``authentication``: inside the dependency (our ``Auth``, PyJWT's ``jwt.decode`` with its header
  parsing, one bare RSA verify of the signature, or the header read), garbage collections that
  ran in it excluded;
- ``gc``: every garbage collection, wherever it ran (the collections are triggered by the
  allocations of the whole request, so they belong to no single step);
- ``rest``: everything else: uvicorn, h11, Starlette, FastAPI, the event loop, the kernel's
  share of the socket work.

Comparing the apps' rows splits the cost of authentication in the server into what our code
does, the garbage it makes the collector chase, and how much slower the framework's own work
runs beside it (``rest`` minus the header-only app's).
"""

from __future__ import annotations

import contextlib
import statistics
from typing import Any

import httpx

APPS = ("header", "rsa", "pyjwt", "session")


# (workload, app): a different valid token on every request (row 1), or one token in steady use
# (row 4: the cached path).
RUNS = [("rotating", app) for app in APPS] + [("same", "header"), ("same", "session")]


def profile(
    env: dict[str, str],
    loader: Any,
    app_server: Any,
    token: str,
    reps: int,
    log: Any,
) -> dict[str, Any]:
    """Per-request CPU µs by part, medians of ``reps`` interleaved load runs per app and
    workload."""
    runs: dict[str, list[dict[str, float]]] = {f"{w}/{a}": [] for w, a in RUNS}
    with contextlib.ExitStack() as stack:
        servers = {
            app: stack.enter_context(app_server(app, {**env, "BENCH_PROFILE": "1"})) for app in APPS
        }
        for server in servers.values():
            loader.run(server.url, token=token, seconds=1)
        for rep in range(reps):
            order = RUNS[rep % len(RUNS) :] + RUNS[: rep % len(RUNS)]
            for workload, app in order:
                url = servers[app].url
                httpx.post(url + "/_bench/profile/reset", timeout=5)
                loader.run(url, token=None if workload == "rotating" else token)
                found = httpx.get(url + "/_bench/profile", timeout=5).json()
                n = max(1, found["requests"])
                per = {
                    "requests": found["requests"],
                    "cpu": found["cpu_s"] / n * 1e6,
                    "authentication": (found["auth_s"] - found["gc_in_auth_s"]) / n * 1e6,
                    "gc": found["gc_s"] / n * 1e6,
                    "gc_in_auth": found["gc_in_auth_s"] / n * 1e6,
                    "collections_per_1000": sum(found["collections"]) / n * 1000,
                }
                per["rest"] = per["cpu"] - per["authentication"] - per["gc"]
                runs[f"{workload}/{app}"].append(per)
                log(
                    f"in-server rep {rep + 1}/{reps} {workload:8} {app:8} "
                    f"cpu {per['cpu']:.1f} µs: auth {per['authentication']:.1f}, "
                    f"gc {per['gc']:.1f}, rest {per['rest']:.1f}"
                )
    medians = {
        name: {
            key: round(statistics.median(run[key] for run in found_runs), 1)
            for key in found_runs[0]
        }
        for name, found_runs in runs.items()
    }
    return {"runs": runs, "us_per_request": medians}
