"""Clerk's authorization rules (``has()``): roles, permissions, features, plans, reverification.

Port of ``@clerk/shared`` ``authorization.ts``, except that a dimension that cannot be decided
(no organization, no ``fva``) is false rather than ignored: it fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class SessionFacts(Protocol):
    """What ``has()`` reads of a signed-in session (``SessionAuth`` has all of it)."""

    @property
    def user_id(self) -> str: ...
    @property
    def org_id(self) -> str | None: ...
    @property
    def org_role(self) -> str | None: ...
    @property
    def org_permissions(self) -> list[str]: ...
    @property
    def features(self) -> list[str]: ...
    @property
    def plans(self) -> list[str]: ...
    @property
    def factor_verification_age(self) -> tuple[int, int] | None: ...


ORG_SCOPES = frozenset({"o", "org", "organization"})
USER_SCOPES = frozenset({"u", "user"})
REVERIFICATION_PRESETS: dict[str, tuple[str, int]] = {
    "strict_mfa": ("multi_factor", 10),
    "strict": ("second_factor", 10),
    "moderate": ("second_factor", 60),
    "lax": ("second_factor", 1440),
}
REVERIFICATION_LEVELS = frozenset({"first_factor", "second_factor", "multi_factor"})


def split_by_scope(entries: Sequence[str]) -> tuple[list[str], list[str]]:
    """``o:a,u:b,uo:c`` -> org names and user names (an entry may be both)."""
    org: list[str] = []
    user: list[str] = []
    for entry in entries:
        scope, sep, name = entry.strip().partition(":")
        if not sep or not name:
            continue
        if "o" in scope:
            org.append(name)
        if "u" in scope:
            user.append(name)
    return org, user


def _with_org_prefix(value: str) -> str:
    return value if value.startswith("org:") else f"org:{value}"


def _has_feature_or_plan(entries: Sequence[str], wanted: str) -> bool:
    org, user = split_by_scope(entries)
    scope, sep, name = wanted.partition(":")
    if not sep:
        return wanted in org or wanted in user
    if scope in ORG_SCOPES:
        return name in org
    if scope in USER_SCOPES:
        return name in user
    return False  # Clerk throws on an unknown scope; we fail closed.


def _check_reverification(spec: str | dict[str, Any], fva: tuple[int, int] | None) -> bool:
    if fva is None:
        return False
    if isinstance(spec, str):
        if spec not in REVERIFICATION_PRESETS:
            return False
        level, after = REVERIFICATION_PRESETS[spec]
    else:
        raw_level = spec.get("level")
        raw_after = spec.get("afterMinutes", spec.get("after_minutes"))
        if raw_level not in REVERIFICATION_LEVELS or type(raw_after) is not int:
            return False
        level, after = str(raw_level), int(raw_after)
    first, second = fva
    first_ok = after > first if first != -1 else None
    second_ok = after > second if second != -1 else None
    if level == "first_factor":
        result = first_ok
    elif level == "second_factor":
        result = second_ok if second != -1 else first_ok
    else:  # multi_factor
        result = first_ok if second == -1 else bool(first_ok and second_ok)
    return result is True


def check_authorization(
    auth: SessionFacts,
    *,
    role: str | None,
    permission: str | None,
    feature: str | None,
    plan: str | None,
    reverification: str | dict[str, Any] | None,
) -> bool:
    if not auth.user_id:
        return False
    checks: list[bool] = []
    if role is not None or permission is not None:
        if not auth.org_id or not auth.org_role:
            checks.append(False)
        else:
            if role is not None:
                checks.append(_with_org_prefix(auth.org_role) == _with_org_prefix(role))
            if permission is not None:
                checks.append(_with_org_prefix(permission) in auth.org_permissions)
    if feature is not None:
        checks.append(_has_feature_or_plan(auth.features, feature))
    if plan is not None:
        checks.append(_has_feature_or_plan(auth.plans, plan))
    if reverification is not None:
        checks.append(_check_reverification(reverification, auth.factor_verification_age))
    return bool(checks) and all(checks)
