"""The deviations report: each case's verdict (agree, documented, undocumented), the printed
differences with every token replaced by its fingerprint, and ``parity/results.json``."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from common import HERE, fingerprint
from compare import clerk_view, compare
from deviations import RULES, matching_rules


def hidden_pattern(secrets: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching every token and key the run used (longest first, so a token that
    contains another one is replaced whole)."""
    ordered = sorted((t for t in set(secrets) if len(t) >= 8), key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered))


def redact(value: Any, hidden: re.Pattern[str]) -> Any:
    """Every token and key in ``value`` replaced by its fingerprint."""
    if isinstance(value, str):
        return hidden.sub(lambda m: f"<token {fingerprint(m.group(0))}>", value)
    if isinstance(value, list | tuple):
        return [redact(v, hidden) for v in value]
    if isinstance(value, dict):
        return {k: redact(v, hidden) for k, v in value.items()}
    return value


def compact(value: Any, limit: int = 90) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(answer: dict[str, Any]) -> str:
    status = answer.get("rawStatus") or answer["status"]
    return f"{status}/{answer['tokenType']}/{answer['reason']}"


def report(
    cases: list[dict[str, Any]],
    clerk_raw: list[dict[str, Any]],
    ours_all: list[dict[str, Any]],
    hidden: re.Pattern[str],
    *,
    show_documented: bool,
    started: float,
    node_seconds: float,
    py_seconds: float,
) -> tuple[int, int, int]:
    """Print the differences and the summary line, write results.json; ``(agree, differ,
    documented)``."""
    agree = differ = documented = 0
    undocumented_kinds: Counter[str] = Counter()
    rule_hits: Counter[str] = Counter()
    records = []
    lines = []
    for case, raw, ours in zip(cases, clerk_raw, ours_all, strict=True):
        clerk = clerk_view(raw)
        diffs = compare(clerk, ours)
        rules = matching_rules(case, clerk, ours, diffs) if diffs else []
        tokens = case["tokens"]
        primary = case["fixture"].get("token") or (tokens[-1] if tokens else None)
        if not diffs:
            agree += 1
            verdict = "agree"
        else:
            differ += 1
            if rules:
                documented += 1
                verdict = "documented"
                rule_hits.update(rules[:1])
            else:
                verdict = "undocumented"
                undocumented_kinds[f"{describe(clerk)} vs {describe(ours)}"] += 1
        if verdict == "undocumented" or (verdict == "documented" and show_documented):
            fp = fingerprint(primary) if primary else "-"
            what = "; ".join(
                f"{d['field']}: {compact(redact(d['clerk'], hidden), 60)} vs "
                f"{compact(redact(d['ours'], hidden), 60)}"
                for d in diffs
            )
            tag = f" [{','.join(rules)}]" if rules else ""
            lines.append(
                f"{case['id']} {redact(case['desc'], hidden)} (token {fp}){tag}\n"
                f"    clerk {describe(clerk)}  ours {describe(ours)}  | {what}"
            )
        records.append(
            redact(
                {
                    "id": case["id"],
                    "desc": case["desc"],
                    "verdict": verdict,
                    "rules": rules,
                    "accepts": case["accepts"],
                    "config": case["config"],
                    "request": case["request"],
                    "token_fingerprints": [fingerprint(t) for t in tokens],
                    "clerk": clerk,
                    "ours": ours,
                    "diffs": diffs,
                },
                hidden,
            )
        )
    for line in lines:
        print(line)
    if undocumented_kinds:
        print("\nUndocumented differences by kind (Clerk vs ours):")
        for kind, count in undocumented_kinds.most_common():
            print(f"  {count:5d}  {kind}")
    if rule_hits:
        print(
            "Documented differences by rule: "
            + ", ".join(f"{k}={v}" for k, v in sorted(rule_hits.items()))
        )
    elapsed = time.monotonic() - started
    summary = {
        "cases": len(cases),
        "agree": agree,
        "differ": differ,
        "documented": documented,
        "undocumented": differ - documented,
        "seconds": {
            "total": round(elapsed, 1),
            "node": round(node_seconds, 1),
            "python": round(py_seconds, 1),
        },
        "clerk_backend": "3.25.0",
        "rules": [{"id": r.id, "description": r.description} for r in RULES],
    }
    (HERE / "results.json").write_text(
        json.dumps({"summary": summary, "cases": records}, indent=1, default=str) + "\n"
    )
    print(
        f"({len(cases)} cases in {elapsed:.1f}s: node {node_seconds:.1f}s, "
        f"python {py_seconds:.1f}s; details in parity/results.json)"
    )
    print(f"{agree} agree, {differ} differ ({documented} documented)")
    return agree, differ, documented
