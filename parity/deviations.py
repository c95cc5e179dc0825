"""The deviations from @clerk/backend 3.25.0 that clerk-fastapi keeps on purpose (design section 7).

Each rule is a predicate over one case and both answers; a difference is "documented" when a rule
matches it. Rules look at what was sent (headers, cookies, configuration, the token's claims, the
fake's verify answer) and at the two answers, never at case ids. Every rule id is a row in
docs/parity.md. Add a rule only when design section 7 adds a kept deviation.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Case = dict[str, Any]
Answer = dict[str, Any]
Diff = dict[str, Any]

# The principal fields that are lists in clerk-fastapi (Clerk's names).
LIST_FIELDS = ("scopes", "orgPermissions")
# Reasons only the handshake machinery produces (multi-domain and organisation sync).
HANDSHAKE_ONLY_REASONS = (
    "satellite-needs-syncing",
    "primary-responds-to-syncing",
    "primary-domain-cross-origin-sync",
    "active-organization-mismatch",
)


EXPIRED_REFRESH = "session-token-expired-refresh-"
# clerk-fastapi's default max_token_length.
MAX_TOKEN_LENGTH = 16_384

# Reasons from checks that Clerk's verifyJwt runs after `sub` and `aud` (azp, iss, time claims):
# a token refused earlier at `sub` or `aud` legitimately reports the earlier failure instead.
LATER_CHECK_REASONS = (
    "token-invalid-authorized-parties",
    "token-invalid-issuer",
    "session-token-nbf",
    "session-token-iat-in-the-future",
    "token-verification-failed",
)


def _refused_later_or_accepted(clerk: Answer) -> bool:
    """Clerk signed in, or refused only at a check that comes after `sub`/`aud`."""
    reason = clerk.get("reason") or ""
    return (
        clerk["status"] == "signed-in"
        or reason in LATER_CHECK_REASONS
        or reason.startswith("session-token-expired-")
    )


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    applies: Callable[[Case, Answer, Answer, list[Diff]], bool]


def _authorization_values(case: Case) -> list[str]:
    return [v for k, v in case["request"]["headers"] if k.lower() == "authorization"]


def _fetch_authorization(case: Case) -> str | None:
    """The Authorization value as a WHATWG Request shows it (repeats joined with ", ")."""
    values = [v.strip(" \t") for v in _authorization_values(case)]
    return ", ".join(values) if values else None


def _cookie_pairs(case: Case) -> list[tuple[str, str]]:
    pairs = []
    for k, v in case["request"]["headers"]:
        if k.lower() != "cookie":
            continue
        for part in v.split(";"):
            name, eq, value = part.partition("=")
            if eq:
                pairs.append((name.strip(" \t"), value.strip(" \t")))
    return pairs


def _jwt_payload(token: str | None) -> dict[str, Any] | None:
    if not token or token.count(".") != 2:
        return None
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _jwt_header(token: str | None) -> dict[str, Any] | None:
    if not token or token.count(".") != 2:
        return None
    try:
        part = token.split(".")[0]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# -- the rules ----------------------------------------------------------------------------------


def _lowercase_bearer(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # RFC 7235: the scheme is case-insensitive. Clerk compares it with "Bearer" exactly and so
    # sees no header token at all.
    values = _authorization_values(case)
    if len(values) != 1:
        return False
    scheme = values[0].strip(" \t").split(" ", 1)[0]
    return scheme != "Bearer" and scheme.lower() == "bearer"


def _extra_header_field(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # RFC 6750: one b64token after "Bearer". Clerk keeps the second space-separated field and drops
    # the rest (two Authorization headers reach it joined as "Bearer a, Bearer b").
    value = _fetch_authorization(case)
    if value is None or not value.startswith("Bearer "):
        return False
    fields = value.split(" ")
    has_extra = len(fields) > 2 and fields[1] != ""
    return has_extra and ours.get("error") == "invalid_request" and ours["status"] == "signed-out"


def _reads_session_cookie(case: Case) -> bool:
    """No header token reaches Clerk and `accepts` lets it read the `__session` cookie."""
    value = _fetch_authorization(case)
    if value and (value.startswith("Bearer ") or " " not in value):
        return False
    accepts = case["accepts"]
    if accepts is None or accepts in ("session_token", "any", "machine_token"):
        return True
    return isinstance(accepts, list) and "session_token" in accepts


def _duplicate_session_cookie(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # Cookie tossing: Clerk takes the first __session; we refuse two different ones, whichever
    # is good, as an invalid request or an invalid token (never by verifying one of them).
    values = {v for k, v in _cookie_pairs(case) if k == "__session"}
    return (
        len(values) > 1
        and _reads_session_cookie(case)
        and ours["status"] == "signed-out"
        and (ours.get("error") == "invalid_request" or ours["reason"] == "token-invalid")
    )


def _empty_bearer_value(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # Design section 7: "Bearer" with nothing after it (with or without a trailing space) is 400.
    # Fetch trims the value, and Clerk then takes the word "Bearer" itself as the token.
    values = _authorization_values(case)
    return (
        len(values) == 1
        and values[0].strip(" \t").lower() == "bearer"
        and ours["status"] == "signed-out"
        and ours.get("error") == "invalid_request"
    )


def _max_token_length(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # A bearer value longer than max_token_length (16 KiB) is refused before it is parsed.
    token = case.get("fixture", {}).get("token") or ""
    return (
        len(token) > MAX_TOKEN_LENGTH
        and ours["status"] == "signed-out"
        and ours["reason"] == "token-invalid"
    )


def _verify_200_not_json(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # A verify endpoint answers 200 with a body that is not JSON: Clerk builds a resource from
    # nothing and signs in; we answer 503 (the answer says nothing about the token).
    return (
        case["config"].get("backend") == "bapi_malformed"
        and ours["status"] == "signed-out"
        and ours.get("error") == "unavailable"
        and ours["tokenType"] == clerk["tokenType"]
    )


def _verify_200_inactive(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # Clerk trusts any 200 from a verify endpoint; we refuse revoked/expired/active:false. Clerk
    # must have reached the endpoint and accepted the body (or refused it only for its `aud`).
    answer = case.get("fixture", {}).get("verify_answer")
    if not isinstance(answer, dict):
        return False
    flagged = (
        answer.get("revoked") is True
        or answer.get("expired") is True
        or answer.get("active") is False
    )
    clerk_took_body = clerk["status"] == "signed-in" or (
        bool(case["config"].get("audience"))
        and clerk["reason"] == "token-verification-failed"
        and "aud" not in answer
    )
    return (
        flagged
        and clerk_took_body
        and ours["status"] == "signed-out"
        and ours["tokenType"] == clerk["tokenType"]
    )


def _empty_sub(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    payload = _jwt_payload(case.get("fixture", {}).get("token"))
    return (
        payload is not None
        and payload.get("sub") == ""
        and ours["status"] == "signed-out"
        and ours["tokenType"] == clerk["tokenType"]
        and ours["reason"] in ("token-verification-failed", "token-invalid")
        and _refused_later_or_accepted(clerk)
    )


def _session_audience_required(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # With an audience configured we also require aud on session tokens (Clerk checks aud only
    # when the token has one).
    if not case["config"].get("audience"):
        return False
    token = case.get("fixture", {}).get("token")
    payload, header = _jwt_payload(token), _jwt_header(token)
    if payload is None or header is None:
        return False
    sub = payload.get("sub")
    machine = (isinstance(sub, str) and sub.startswith("mch_")) or header.get("typ") in (
        "at+jwt",
        "application/at+jwt",
    )
    aud = payload.get("aud")
    # No aud, or one with no string entry at all (Clerk leaves odd shapes unchecked).
    unusable = not aud or (isinstance(aud, list) and not any(isinstance(a, str) for a in aud))
    return (
        not machine
        and unusable
        and ours["status"] == "signed-out"
        and ours["reason"] == "token-verification-failed"
        and _refused_later_or_accepted(clerk)
    )


def _machine_token_alias(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # "machine_token" is not a token type in Clerk 3.25.0; we keep it as m2m_token's old name.
    accepts = case["accepts"]
    names = [accepts] if isinstance(accepts, str) else list(accepts or [])
    return "machine_token" in names and ours["tokenType"] in ("m2m_token", None)


def _principal_lists(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # Clerk passes a string aud (M2M JWT without a scopes claim) or an absent list through as is.
    if not diffs or any(not d["field"].startswith("auth.") for d in diffs):
        return False
    for d in diffs:
        name = d["field"].removeprefix("auth.")
        if name not in LIST_FIELDS or not isinstance(d["ours"], list):
            return False
        theirs = d["clerk"]
        if theirs is None and d["ours"] == []:
            continue
        if isinstance(theirs, str) and d["ours"] == [theirs]:
            continue
        return False
    return True


def _dev_instance_cookie_flows(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    reason = clerk.get("reason") or ""
    return reason.startswith("dev-browser-")


def _handshake(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> bool:
    # Statuses are compared with handshake mapped to signed-out; this covers the reasons only the
    # handshake machinery (multi-domain, organisation sync) produces, and the session refresh
    # Clerk attempts for an expired token with a __refresh cookie on a GET (we never refresh and
    # report Clerk's reason for an SDK without a Backend API client).
    if clerk.get("reason") in HANDSHAKE_ONLY_REASONS:
        return True
    reason = clerk.get("reason") or ""
    return (
        reason.startswith(EXPIRED_REFRESH)
        and not reason.startswith(EXPIRED_REFRESH + "non-eligible-")
        and ours["reason"] == EXPIRED_REFRESH + "missing-api-client"
        and ours["status"] == "signed-out"
    )


RULES: list[Rule] = [
    Rule(
        "lowercase-bearer",
        "A lower-case (or other-case) `bearer` scheme is accepted (RFC 7235); Clerk ignores it.",
        _lowercase_bearer,
    ),
    Rule(
        "header-extra-field",
        "Two tokens in one header, or a value after the token: 400 invalid_request (RFC 6750); "
        "Clerk takes the second field.",
        _extra_header_field,
    ),
    Rule(
        "empty-bearer-value",
        "`Bearer` with nothing after it: 400 invalid_request (RFC 6750, design section 7); "
        "Clerk takes the word `Bearer` as the token.",
        _empty_bearer_value,
    ),
    Rule(
        "max-token-length",
        "A bearer value over max_token_length (16 KiB) is refused unparsed; Clerk parses any "
        "length.",
        _max_token_length,
    ),
    Rule(
        "duplicate-session-cookie",
        "Two distinct `__session` cookies are refused as ambiguous (cookie tossing); Clerk takes "
        "the first.",
        _duplicate_session_cookie,
    ),
    Rule(
        "verify-200-inactive",
        "A 200 verify answer with revoked/expired true or active false is refused; Clerk "
        "signs it in.",
        _verify_200_inactive,
    ),
    Rule(
        "verify-200-not-json",
        "A 200 verify answer that is not JSON is 503; Clerk signs in a token built from nothing.",
        _verify_200_not_json,
    ),
    Rule(
        "empty-sub",
        'A JWT with `sub: ""` is refused; Clerk only checks that sub is a string.',
        _empty_sub,
    ),
    Rule(
        "session-audience-required",
        "With an audience configured, session tokens must carry a matching `aud`; Clerk checks "
        "aud only when present.",
        _session_audience_required,
    ),
    Rule(
        "machine-token-alias",
        "`machine_token` is an alias of `m2m_token`; in Clerk it is an unknown type that "
        "matches nothing.",
        _machine_token_alias,
    ),
    Rule(
        "principal-lists",
        "Principal list fields (scopes, org_permissions) are always lists; Clerk may pass a "
        "string or nothing through.",
        _principal_lists,
    ),
    Rule(
        "dev-instance-cookie-flows",
        "Development-instance cookie flows (`dev-browser-*`) are not implemented.",
        _dev_instance_cookie_flows,
    ),
    Rule(
        "handshake",
        "The handshake is not implemented: handshake answers are compared as signed-out, and "
        "handshake-only sync reasons are not produced.",
        _handshake,
    ),
]


def matching_rules(case: Case, clerk: Answer, ours: Answer, diffs: list[Diff]) -> list[str]:
    return [rule.id for rule in RULES if rule.applies(case, clerk, ours, diffs)]
