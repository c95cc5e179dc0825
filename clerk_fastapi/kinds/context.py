"""What a built-in kind's verifier needs from the ``Clerk`` that owns it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clerk_fastapi.cache.base import VerificationStore
from clerk_fastapi.cache.policy import CallPolicy
from clerk_fastapi.jose.verify import KeyResolver
from clerk_fastapi.kinds._budget import ClientBudget
from clerk_fastapi.settings import ClerkSettings


@dataclass(frozen=True, slots=True)
class KindContext:
    settings: ClerkSettings
    clock: Callable[[], float]
    resolve_key: KeyResolver
    store: VerificationStore
    # Shared by every opaque kind: one client's budget spans mt_, oat_ and ak_.
    budget: ClientBudget | None = None
    # One per ``Clerk`` too: coalescing and the Backend API rate guard (cache/policy.py).
    calls: CallPolicy | None = None
