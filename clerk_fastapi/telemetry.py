"""OpenTelemetry metrics and spans (the ``otel`` extra: ``opentelemetry-api`` only).

The package uses the API alone: the application's own SDK, readers and exporters decide where
anything goes (without an SDK every call is a no-op). The only module that imports
``opentelemetry`` (an import-linter contract): the rest of the package gets plain callbacks from
``instrument``, so the core neither needs nor knows the extra.

No attribute ever carries a token, a fingerprint, a signature, a secret or a URL with
credentials: token types, reasons, outcomes, cache tiers, HTTP methods, Backend API route
templates and status codes only. See docs/telemetry.md for the list.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from clerk_fastapi._version import __version__
from clerk_fastapi.errors import Reason

SCOPE = "clerk_fastapi"
# A path segment that names one object (user_2x..., mch_..., a number): replaced by ``{id}``.
# (Clerk ids mix digits or capitals in: ``api_keys`` or ``oauth_applications`` stay as they are.)
_ID_SEGMENT = re.compile(
    r"^(?:[a-z]+_(?=[A-Za-z0-9]*[0-9A-Z])[A-Za-z0-9]{8,}|[0-9]+|[A-Za-z0-9_\-]{32,})$"
)


def available() -> bool:
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        return False
    return True


def route_of(path: str) -> str:
    """``/v1/users/user_2abc`` -> ``/v1/users/{id}``: bounded cardinality, no identifiers."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


class Telemetry:
    """The instruments, created once per ``Clerk`` from the global providers (or given ones)."""

    def __init__(self, meter_provider: Any = None, tracer_provider: Any = None) -> None:
        from opentelemetry import metrics, trace

        meter = metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        self._status_error = trace.StatusCode.ERROR
        self.decisions = meter.create_counter(
            "clerk_fastapi.decisions",
            unit="{decision}",
            description="Authentication decisions by outcome, token type, reason and cache use.",
        )
        self.decision_duration = meter.create_histogram(
            "clerk_fastapi.decision.duration",
            unit="s",
            description="Time to decide one request's credentials.",
        )
        self.cache_lookups = meter.create_counter(
            "clerk_fastapi.cache.lookups",
            unit="{lookup}",
            description="Verified-result lookups by tier (local, redis) and result (hit, miss).",
        )
        self.backend_duration = meter.create_histogram(
            "clerk_fastapi.backend_api.duration",
            unit="s",
            description="Backend API calls (JWKS included) by route, method and outcome.",
        )
        self.backend_errors = meter.create_counter(
            "clerk_fastapi.backend_api.errors",
            unit="{call}",
            description="Backend API calls that failed (no answer, or a non-2xx answer).",
        )
        self.jwks_refreshes = meter.create_counter(
            "clerk_fastapi.jwks.refreshes",
            unit="{fetch}",
            description="JWKS fetches by outcome (ok, failed).",
        )
        self.refusals = meter.create_counter(
            "clerk_fastapi.rate_limit.refusals",
            unit="{request}",
            description="Requests refused with 503 by the per-client budget or the rate guard.",
        )
        self.redis_duration = meter.create_histogram(
            "clerk_fastapi.redis.duration",
            unit="s",
            description="Shared-tier Redis operations by outcome (ok, failed, skipped).",
        )
        self._pending: list[Callable[[], int]] = []

        def observe_pending(_options: Any) -> Iterator[Any]:
            from opentelemetry.metrics import Observation

            yield Observation(sum(count() for count in self._pending))

        meter.create_observable_gauge(
            "clerk_fastapi.forgets.pending",
            callbacks=[observe_pending],
            unit="{forget}",
            description="Forgets this process has not delivered to Redis yet.",
        )

    # -- what the components call ---------------------------------------------------------------

    def decision(self, event: Any) -> None:
        """One ``AuthEvent`` (the same the hooks get; its fingerprint is never exported)."""
        attributes = {
            "clerk.outcome": event.outcome,
            "clerk.token_type": event.token_type or "none",
            "clerk.reason": event.reason or "none",
            "clerk.cache": event.cache,
        }
        self.decisions.add(1, attributes)
        self.decision_duration.record(
            event.latency_ms / 1000,
            {"clerk.outcome": event.outcome, "clerk.token_type": event.token_type or "none"},
        )
        if event.reason == Reason.RATE_LIMITED:
            self.refusals.add(1, {"clerk.token_type": event.token_type or "none"})

    def cache_lookup(self, tier: str, hit: bool) -> None:
        self.cache_lookups.add(
            1, {"clerk.cache.tier": tier, "clerk.cache.result": "hit" if hit else "miss"}
        )

    @contextlib.contextmanager
    def backend_call(self, method: str, path: str) -> Iterator[dict[str, Any]]:
        """A span and a duration around one Backend API call; the caller fills ``outcome``
        (``ok``, ``http_error``, ``network_error``) and ``status`` in the yielded dict."""
        route = route_of(path)
        result: dict[str, Any] = {"outcome": "network_error", "status": None}
        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            f"clerk.backend_api {method} {route}",
            kind=_client_kind(),
            attributes={"http.request.method": method, "url.template": route},
        ) as span:
            try:
                yield result
            finally:
                attributes: dict[str, Any] = {
                    "http.request.method": method,
                    "url.template": route,
                    "clerk.outcome": result["outcome"],
                }
                if result["status"] is not None:
                    attributes["http.response.status_code"] = result["status"]
                    span.set_attribute("http.response.status_code", result["status"])
                if result["outcome"] != "ok":
                    span.set_status(self._status_error)
                    self.backend_errors.add(1, attributes)
                self.backend_duration.record(time.perf_counter() - started, attributes)

    @contextlib.contextmanager
    def jwks_fetch(self) -> Iterator[None]:
        with self.tracer.start_as_current_span("clerk.jwks.fetch") as span:
            try:
                yield
            except Exception:
                span.set_status(self._status_error)
                self.jwks_refreshes.add(1, {"clerk.outcome": "failed"})
                raise
            self.jwks_refreshes.add(1, {"clerk.outcome": "ok"})

    def redis_span(self) -> Any:
        return self.tracer.start_as_current_span("clerk.redis", kind=_client_kind())

    def redis_operation(self, outcome: str, seconds: float) -> None:
        self.redis_duration.record(seconds, {"clerk.outcome": outcome})

    def count_pending(self, count: Callable[[], int]) -> None:
        self._pending.append(count)


def _client_kind() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT


def instrument(clerk: Any, meter_provider: Any = None, tracer_provider: Any = None) -> Telemetry:
    """Wire a ``Telemetry`` into a ``Clerk``'s parts through their callbacks."""
    telemetry = Telemetry(meter_provider, tracer_provider)
    clerk.http.telemetry = telemetry
    clerk.jwks.telemetry = telemetry
    clerk.observer.telemetry = telemetry.decision
    store = clerk.store
    conn = getattr(store, "conn", None)
    if conn is not None:
        conn.on_operation = telemetry.redis_operation
        conn.span = telemetry.redis_span
        store.on_lookup = telemetry.cache_lookup
        forgets = getattr(store, "forgets", None)
        if forgets is not None:
            telemetry.count_pending(lambda: len(forgets.pending))
    return telemetry
