"""Comparing the two answers to one case: Clerk's auth object against our principal."""

from __future__ import annotations

from typing import Any

FIELD_MAP: dict[str, list[tuple[str, str]]] = {
    "session_token": [
        ("userId", "user_id"),
        ("sessionId", "session_id"),
        ("sessionStatus", "session_status"),
        ("orgId", "org_id"),
        ("orgRole", "org_role"),
        ("orgSlug", "org_slug"),
        ("orgPermissions", "org_permissions"),
        ("actor", "actor"),
        ("factorVerificationAge", "factor_verification_age"),
        ("sessionClaims", "claims"),
    ],
    "oauth_token": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("userId", "user_id"),
        ("clientId", "client_id"),
    ],
    "m2m_token": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("claims", "claims"),
        ("machineId", "machine_id"),
    ],
    "api_key": [
        ("id", "id"),
        ("subject", "subject"),
        ("scopes", "scopes"),
        ("claims", "claims"),
        ("name", "name"),
        ("userId", "user_id"),
        ("orgId", "org_id"),
    ],
}


def clerk_view(raw: dict[str, Any]) -> dict[str, Any]:
    """Clerk's answer in comparable form: handshake counts as signed-out (design section 7)."""
    auth = raw.get("auth") or None
    authenticated = bool(auth and auth.get("isAuthenticated"))
    token_type = raw.get("tokenType")
    fields = None
    source = raw.get("authPending") or auth
    if raw.get("status") == "signed-in" and source:
        fields = {name: source.get(name) for name, _ in FIELD_MAP.get(str(token_type), [])}
    return {
        "status": "signed-out" if raw.get("status") == "handshake" else raw.get("status"),
        "rawStatus": raw.get("status"),
        "reason": raw.get("reason"),
        "message": raw.get("message"),
        "tokenType": token_type,
        "isAuthenticated": authenticated,
        "fields": fields,
        "error": raw.get("error"),
        "toAuthError": raw.get("toAuthError"),
        "fetches": raw.get("fetches", []),
    }


def compare(clerk: dict[str, Any], ours: dict[str, Any]) -> list[dict[str, Any]]:
    diffs = []
    for name in ("status", "tokenType", "reason", "isAuthenticated"):
        if clerk[name] != ours[name]:
            diffs.append({"field": name, "clerk": clerk[name], "ours": ours[name]})
    if clerk["status"] == "signed-in" and ours["status"] == "signed-in":
        theirs = clerk["fields"] or {}
        mine = ours.get("authPending") or ours.get("auth") or {}
        if clerk["tokenType"] == ours["tokenType"]:
            for name, _ in FIELD_MAP.get(str(clerk["tokenType"]), []):
                if normalise(theirs.get(name)) != normalise(mine.get(name)):
                    diffs.append(
                        {"field": f"auth.{name}", "clerk": theirs.get(name), "ours": mine.get(name)}
                    )
    return diffs


def normalise(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value
