"""``accepts``: one token type, a list of them, or ``"any"``, normalised once.

Names are checked when an ``Auth`` is declared: Clerk's four types (and the alias
``machine_token``) are known; a name close to one of them is a typo and fails at once; any other
name is a token type you register on your ``Clerk`` (``clerk.registry.register``), checked
against that registry when the ``Clerk`` first serves the route.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from clerk_fastapi.kinds import ALIASES, BUILTIN_TYPES
from clerk_fastapi.kinds.registry import SESSION_TOKEN

ANY = "any"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class Accepts:
    """A normalised ``accepts``: the named types, or every registered type (``any``)."""

    types: frozenset[str]
    any: bool = False
    single: str | None = None

    def allows(self, token_type: str) -> bool:
        return self.any or token_type in self.types

    @property
    def includes_session(self) -> bool:
        return self.any or SESSION_TOKEN in self.types

    @property
    def custom(self) -> frozenset[str]:
        """The names that are not Clerk's own (checked against a ``Clerk``'s registry)."""
        return self.types - frozenset(BUILTIN_TYPES)

    def ordered(self, registered: Iterable[str] = ()) -> tuple[str, ...]:
        """Clerk's types in their usual order, then the others by name."""
        names = set(self.types) | (set(registered) if self.any else set())
        known = [t for t in BUILTIN_TYPES if t in names]
        return tuple(known + sorted(names - set(BUILTIN_TYPES)))


def _resolve(item: object, known: Iterable[str] | None) -> str:
    if not isinstance(item, str):
        raise ValueError(f"accepts entries must be strings, got {item!r}")
    name = ALIASES.get(item, item)
    valid = set(BUILTIN_TYPES) if known is None else set(known)
    if name in valid:
        return name
    hint = f"expected one of {sorted(valid)}, {', '.join(map(repr, ALIASES))} or 'any'"
    candidates = [*valid, *ALIASES, ANY]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75) or [
        c for c in candidates if c.startswith(name) or name.startswith(c)
    ]
    if close:
        raise ValueError(f"unknown token type {item!r}: did you mean {close[0]!r}? ({hint})")
    if known is not None or not _NAME.fullmatch(name):
        raise ValueError(f"unknown token type {item!r}; {hint}")
    return name  # a registered custom type, checked when a Clerk serves the route


def normalize_accepts(accepts: str | Iterable[str], known: Iterable[str] | None = None) -> Accepts:
    """Validate ``accepts``; ``known`` is a registry's names (``None``: at declaration time)."""
    if isinstance(accepts, str):
        if accepts == ANY:
            return Accepts(types=frozenset(known or BUILTIN_TYPES), any=True)
        name = _resolve(accepts, known)
        return Accepts(types=frozenset({name}), single=name)
    names = list(accepts)
    if not names:
        raise ValueError("accepts must name at least one token type")
    if ANY in names:
        raise ValueError("'any' cannot be combined with other token types")
    return Accepts(types=frozenset(_resolve(item, known) for item in names))
