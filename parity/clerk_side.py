"""Clerk's side of the auth run: every case through ``parity/runner.mjs`` (``authenticateRequest``
of @clerk/backend), in one Node process."""

from __future__ import annotations

from typing import Any

from backends import Backends
from node_bridge import run_script


def node_client_config(case: dict[str, Any], backends: Backends) -> dict[str, Any]:
    cfg = case["config"]
    concrete = backends.resolve(cfg)
    client: dict[str, Any] = {
        "secretKey": concrete["secret_key"],
        "publishableKey": concrete["publishable_key"],
        "apiUrl": concrete["api_url"],
    }
    options: dict[str, Any] = {}
    if case["accepts"] is not None:
        options["acceptsToken"] = case["accepts"]
    if cfg.get("authorized_parties"):
        options["authorizedParties"] = cfg["authorized_parties"]
    if cfg.get("audience"):
        options["audience"] = cfg["audience"]
    if cfg.get("issuer"):
        options["issuer"] = cfg["issuer"]
    if concrete["jwt_key"]:
        client["jwtKey"] = concrete["jwt_key"]
        options["jwtKey"] = concrete["jwt_key"]
    if concrete["machine_secret_key"]:
        client["machineSecretKey"] = concrete["machine_secret_key"]
        options["machineSecretKey"] = concrete["machine_secret_key"]
    return {"client": client, "options": options}


def run_node(cases: list[dict[str, Any]], backends: Backends) -> list[dict[str, Any]]:
    payload = [
        {
            "id": case["id"],
            "now": case["now"] * 1000,
            "request": case["request"],
            **node_client_config(case, backends),
        }
        for case in cases
    ]
    results: list[dict[str, Any]] = run_script("runner.mjs", payload, timeout=1800)
    assert [r["id"] for r in results] == [c["id"] for c in cases], "runner answered out of order"
    return results
