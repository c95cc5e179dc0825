"""Compare ``make bench`` between an earlier commit and the working tree, in one run.

    python scripts/bench_compare.py BASE [--rounds N] [--write]   (make bench-compare BASE=<rev>)

Exports ``BASE`` (``git archive``) to a temporary directory and runs the whole benchmark there
and here, alternately (``BASE, here, here, BASE, ...``: each side goes first as often), each run
with its own apps, load generator and in-process rows, writing nothing into the docs
(``BENCH_OUT``). Prints, per row, the median over the rounds of each side, their ranges, the
change, and the load average around each run. ``BENCH_REPS`` (default 3 here) sets the
repetitions inside each run. Results: ``bench/compare.json``; with ``--write``, the last run of
the working tree also becomes ``bench/results.json`` and the pages ``make bench`` writes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Metric = Callable[[dict[str, Any]], float]


def _median_rps(results: dict[str, Any], app: str) -> float:
    return statistics.median(run["rps"] for run in results["whole_app"]["runs"]["same"][app])


def _row(n: int) -> Metric:
    return lambda results: float(results["rows"][n - 1]["chart"][1])


# (row, what is compared, better when, how to read it from a run's results.json)
METRICS: list[tuple[str, str, str, Metric]] = [
    ("1", "new token per request: req/s vs hand-written PyJWT", "higher", _row(1)),
    ("2", "cold Depends(Auth()): time vs jwt.decode", "lower", _row(2)),
    ("3", "cold authenticate_token: time vs RSA floor", "lower", _row(3)),
    ("4", "cached Depends(Auth()): req/s vs header-only", "higher", _row(4)),
    ("5", 'Auth(accepts="any"): req/s vs session-only', "higher", _row(5)),
    (
        "5",
        "Security(Auth([...]), scopes=...): req/s vs session-only",
        "higher",
        lambda r: _median_rps(r, "scoped") / _median_rps(r, "session"),
    ),
    (
        "6",
        "bytes per cached result (100,000 results)",
        "lower",
        lambda r: float(r["memory"][0]["bytes_per_result"]),
    ),
    (
        "6",
        "longest GC pause during churn, ms",
        "lower",
        lambda r: float(r["memory"][0]["churn"]["longest_gc_pause_ms"]),
    ),
    (
        "7",
        "re-verifications of a token in steady use",
        "lower",
        lambda r: float(r["eviction"]["hot_reverified"]),
    ),
    (
        "8",
        "first request, Clerk refusing: event-loop lag, ms",
        "lower",
        lambda r: float(r["first_request"]["refused"]["max_loop_lag_ms"]),
    ),
]


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (tracked files only), with this checkout's token pool if any."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev], cwd=ROOT, check=True, capture_output=True
    ).stdout
    tree = into / "base"
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    pool = ROOT / "bench" / ".cache"
    if pool.is_dir():  # the minted token pool: the same key on both sides
        shutil.copytree(pool, tree / "bench" / ".cache", dirs_exist_ok=True)
    return tree


def run_bench(tree: Path, out: Path) -> dict[str, Any]:
    """One whole ``python -m bench`` in ``tree`` (its ``clerk_fastapi`` is the one imported:
    the working directory comes first on ``sys.path``)."""
    env = {**os.environ, "BENCH_OUT": str(out), "BENCH_REPS": os.environ.get("BENCH_REPS", "3")}
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "-m", "bench"], cwd=tree, env=env, check=True)
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def safe(metric: Metric, results: dict[str, Any]) -> float | None:
    try:
        return metric(results)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        raise SystemExit(__doc__)
    base = args[0]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 2
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    sides = {"base": export(base, work), "here": ROOT}
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True).stdout
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "here": []}
    started = time.monotonic()
    try:
        for i in range(rounds):
            order = ["base", "here"] if i % 2 == 0 else ["here", "base"]
            for side in order:
                print(f"== round {i + 1}/{rounds}: {side}", flush=True)
                out = work / f"{side}-{i}"
                out.mkdir()
                runs[side].append(run_bench(sides[side], out))
        if "--write" in args:
            last = work / f"here-{rounds - 1}" / "results.json"
            shutil.copy(last, ROOT / "bench" / "results.json")
            subprocess.run([sys.executable, "-m", "bench.report"], cwd=ROOT, check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    table = []
    lines = [
        f"Benchmark, {base} (before) vs {head}{' + working tree' if dirty else ''} (after): "
        f"{rounds} alternating runs of each, medians (ranges)",
        "",
        "| row | measure | better | before | after | change |",
        "|---|---|---|---|---|---|",
    ]
    for row, label, better, metric in METRICS:
        before = [v for r in runs["base"] if (v := safe(metric, r)) is not None]
        after = [v for r in runs["here"] if (v := safe(metric, r)) is not None]
        if not before or not after:
            lines.append(f"| {row} | {label} | {better} | n/a | n/a | |")
            continue
        b, a = statistics.median(before), statistics.median(after)
        change = (a - b) / b * 100 if b else 0.0
        worse = change < 0 if better == "higher" else change > 0
        table.append(
            {
                "row": row,
                "measure": label,
                "better": better,
                "before": before,
                "after": after,
                "change_percent": round(change, 1),
            }
        )
        lines.append(
            f"| {row} | {label} | {better} | {b:.3g} ({min(before):.3g}-{max(before):.3g}) "
            f"| {a:.3g} ({min(after):.3g}-{max(after):.3g}) "
            f"| {change:+.1f}%{' (worse)' if worse and abs(change) > 0.05 else ''} |"
        )
    loads = [
        (side, r["load_average_at_start"], r["load_average_at_end"])
        for side in ("base", "here")
        for r in runs[side]
    ]
    lines += ["", "Load average (1, 5, 15 min) at start and end of each run:"]
    lines += [f"- {side}: {start} -> {end}" for side, start, end in loads]
    lines.append(f"Total {time.monotonic() - started:.0f} s.")
    text = "\n".join(lines)
    print(text)
    (ROOT / "bench" / "compare.json").write_text(
        json.dumps(
            {"base": base, "head": head, "dirty": bool(dirty), "rows": table, "loads": loads},
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
