"""Wycheproof JSON-web-signature vectors (Apache-2.0), read from ../shared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "wycheproof"


def rs256_vectors() -> list[tuple[dict[str, Any], list[tuple[int, str]]]]:
    """(public JWK, [(tcId, compact jws)]) for the rs256 groups, tcIds 33-263."""
    data = json.loads((VECTORS / "json_web_signature_test.json").read_text())
    groups = []
    for group in data["testGroups"]:
        public = group.get("public") or group.get("private")
        if not isinstance(public, dict) or public.get("alg") != "RS256":
            continue
        jwk = {k: v for k, v in public.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        cases = [
            (t["tcId"], t["jws"])
            for t in group["tests"]
            if 33 <= t["tcId"] <= 263 and isinstance(t["jws"], str)
        ]
        if cases:
            groups.append((jwk, cases))
    return groups
