"""Structured log records and hooks for every authentication decision.

Each decision is logged on the ``clerk_fastapi`` logger with these record attributes:
``clerk_event`` (``authenticated``/``rejected``), ``clerk_token_type``, ``clerk_reason``,
``clerk_error``, ``clerk_fingerprint`` (12 hex digits of the token's SHA-256, never the token),
``clerk_latency_ms``, ``clerk_cache`` (``hit``/``miss``), ``clerk_presented_type`` (a refused
token's own type when it differs from ``clerk_token_type``, the route's) and ``clerk_accepts`` (the
route's types). Hooks get the same as an ``AuthEvent``.

A 403 (a verified token that lacks a scope, permission or role, or a machine that may not call
this service) is logged at INFO as ``forbidden``, with the reason and what was missing.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Union

from clerk_fastapi.auth.accepts import Accepts
from clerk_fastapi.auth.state import RequestState
from clerk_fastapi.errors import Reason

logger = logging.getLogger("clerk_fastapi")


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One authentication decision, safe to export as metrics (no token, no secret)."""

    outcome: Literal["authenticated", "rejected"]
    token_type: str | None
    reason: str | None
    error: str | None
    fingerprint: str | None
    latency_ms: float
    cache: Literal["hit", "miss"]
    # A refused token's own type when it differs from ``token_type`` (the route's), and the
    # types the route accepts ("any", or a comma-separated list).
    presented_type: str | None = None
    accepts: str | None = None


Hook = Callable[[AuthEvent], Union[Awaitable[None], None]]  # noqa: UP007


class Observer:
    """Turns request states into log records and hook calls."""

    def __init__(self, on_authenticated: Hook | None = None, on_rejected: Hook | None = None):
        self._on_authenticated = on_authenticated
        self._on_rejected = on_rejected
        self._telemetry: Callable[[AuthEvent], None] | None = None
        self._listen()

    def _listen(self) -> None:
        # Read on every decision, so kept as a plain attribute rather than worked out each time:
        # a decision is emitted when ``hooked`` or the logger is enabled at ``state.log_level``
        # (checked inline by the authenticator's two entry points).
        self.hooked = (
            self._on_authenticated is not None
            or self._on_rejected is not None
            or self._telemetry is not None
        )

    @property
    def on_authenticated(self) -> Hook | None:
        return self._on_authenticated

    @on_authenticated.setter
    def on_authenticated(self, hook: Hook | None) -> None:
        self._on_authenticated = hook
        self._listen()

    @property
    def on_rejected(self) -> Hook | None:
        return self._on_rejected

    @on_rejected.setter
    def on_rejected(self, hook: Hook | None) -> None:
        self._on_rejected = hook
        self._listen()

    @property
    def telemetry(self) -> Callable[[AuthEvent], None] | None:
        """Every decision, for metrics (``telemetry.instrument`` sets it; the hooks stay the
        user's)."""
        return self._telemetry

    @telemetry.setter
    def telemetry(self, record: Callable[[AuthEvent], None] | None) -> None:
        self._telemetry = record
        self._listen()

    async def emit(
        self, state: RequestState, started: float, accepts: Accepts | None = None
    ) -> None:
        authenticated = state.status == "signed-in"
        hook = self.on_authenticated if authenticated else self.on_rejected
        level = state.log_level
        event = AuthEvent(
            outcome="authenticated" if authenticated else "rejected",
            token_type=state.token_type,
            reason=state.reason,
            error=state.error,
            fingerprint=state.fingerprint,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            cache="hit" if state.source == "cache" else "miss",
            presented_type=state.presented_type,
            accepts=_accepts_text(accepts),
        )
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "%s type=%s accepts=%s reason=%s fp=%s %.3f ms cache=%s",
                event.outcome,
                # What was presented: on a type mismatch, the token's own type (the route's
                # is in accepts=).
                event.presented_type or event.token_type,
                event.accepts,
                event.reason,
                event.fingerprint,
                event.latency_ms,
                event.cache,
                extra={
                    "clerk_event": event.outcome,
                    "clerk_token_type": event.token_type,
                    "clerk_reason": event.reason,
                    "clerk_error": event.error,
                    "clerk_fingerprint": event.fingerprint,
                    "clerk_latency_ms": event.latency_ms,
                    "clerk_cache": event.cache,
                    "clerk_presented_type": event.presented_type,
                    "clerk_accepts": event.accepts,
                },
            )
        if self.telemetry is not None:
            try:
                self.telemetry(event)
            except Exception:
                logger.exception("clerk_fastapi telemetry failed")
        if hook is not None:
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("clerk_fastapi hook %r failed", getattr(hook, "__name__", hook))


def _accepts_text(accepts: Accepts | None) -> str | None:
    if accepts is None:
        return None
    return "any" if accepts.any else ",".join(accepts.ordered())


def log_forbidden(state: RequestState, missing: Sequence[str]) -> None:
    """A 403: the token is valid but lacks what the route requires (names only, no token)."""
    logger.info(
        "forbidden type=%s reason=%s missing=%s fp=%s",
        state.token_type,
        Reason.INSUFFICIENT_SCOPE,
        " ".join(missing),
        state.fingerprint,
        extra={
            "clerk_event": "forbidden",
            "clerk_token_type": state.token_type,
            "clerk_reason": Reason.INSUFFICIENT_SCOPE,
            "clerk_error": "insufficient_scope",
            "clerk_fingerprint": state.fingerprint,
            "clerk_missing": list(missing),
        },
    )
