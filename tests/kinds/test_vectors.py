"""Project Wycheproof JSON-web vectors (Apache-2.0) against our signature step and key checks."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from clerk_fixtures import VECTORS

from clerk_fastapi.errors import TokenVerificationError
from clerk_fastapi.jose.compact import parse_compact
from clerk_fastapi.jose.keys import (
    RSA_ALGORITHMS,
    UnsafeKeyError,
    VerificationKey,
    key_from_jwk,
    keys_from_jwks,
)
from clerk_fastapi.jose.verify import verify_signature

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
# Upstream defects (vectors/README.md): identical to the valid 357 but labelled invalid.
SKIP = {367: "identical to valid tcId 357", 370: "identical to valid tcId 357"}
# Labelled valid, but contain '?': a strict decoder rejects them, which is correct.
REJECT_IS_CORRECT = {372, 373}


def public_only(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


def verifies(jws: str, key: VerificationKey | None) -> bool:
    async def run() -> bool:
        parsed = parse_compact(jws, payload_json=False)

        async def resolve(_kid: object) -> VerificationKey:
            if key is None:
                raise TokenVerificationError("jwk-kid-mismatch", "no usable key")
            return key

        await verify_signature(parsed, resolve, allowed_typ=("JWT",), typ_optional=True)
        return True

    try:
        return asyncio.run(run())
    except TokenVerificationError:
        return False


def signature_cases() -> list[tuple[int, str, dict[str, Any], str]]:
    data = json.loads((VECTORS / "json_web_signature_test.json").read_text())
    cases = []
    for group in data["testGroups"]:
        jwk = group.get("public") or group.get("private")
        for test in group["tests"]:
            if isinstance(test["jws"], str):
                cases.append((test["tcId"], test["jws"], jwk, test["result"]))
    return cases


def test_signature_vectors() -> None:
    counts: Counter[str] = Counter()
    for tc_id, jws, jwk, result in signature_cases():
        if tc_id in SKIP:
            counts["skipped"] += 1
            continue
        try:
            key = key_from_jwk(public_only(jwk)) if jwk.get("kty") == "RSA" else None
        except UnsafeKeyError:
            key = None
        ok = verifies(jws, key)
        rs_valid = (
            result == "valid"
            and tc_id not in REJECT_IS_CORRECT
            and jwk.get("alg") in RSA_ALGORITHMS
            and key is not None
        )
        # Valid RS256/384/512 under a key that declares that alg verify (Clerk's rule);
        # everything else (PS*, ES*, HS*, none, malformed, tampered) is refused.
        assert ok == rs_valid, (tc_id, result, jwk.get("alg"))
        counts["verified" if ok else "refused"] += 1
    print(f"\nsignature vectors: {dict(counts)}")
    assert counts["verified"] >= 10 and counts["refused"] >= 370


@pytest.mark.parametrize("tc_id", [4, 6, 7, 8, 9])
def test_unsafe_key_sets_are_refused(tc_id: int) -> None:
    data = json.loads((VECTORS / "json_web_key_test.json").read_text())
    group, test = next((g, t) for g in data["testGroups"] for t in g["tests"] if t["tcId"] == tc_id)
    keyset = group.get("public") or group["private"]
    jwks = {"keys": [public_only(k) for k in keyset["keys"]]}
    try:
        keys, refused = keys_from_jwks(jwks)
    except UnsafeKeyError:
        keys, refused = {}, ["whole set"]
    assert refused, tc_id  # the unsafe member (or the duplicated kid) is refused when loaded
    usable_rsa = [k for k in keys.values() if k.kid not in {"kid-aes-sign"}]
    if tc_id in (6, 7, 8, 9):
        assert usable_rsa == [], tc_id
    try:
        header = parse_compact(test["jws"], payload_json=False).header
    except TokenVerificationError:
        return  # refused before any key is involved
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None and kid is None and len(keys) == 1:
        key = next(iter(keys.values()))
    assert not verifies(test["jws"], key), tc_id


def test_valid_rsa_key_set_still_works() -> None:
    data = json.loads((VECTORS / "json_web_key_test.json").read_text())
    group, test = next((g, t) for g in data["testGroups"] for t in g["tests"] if t["tcId"] == 5)
    keys, refused = keys_from_jwks({"keys": [public_only(k) for k in group["public"]["keys"]]})
    assert refused == []
    header = parse_compact(test["jws"], payload_json=False).header
    key = keys.get(header.get("kid")) or next(iter(keys.values()))
    assert verifies(test["jws"], key)
