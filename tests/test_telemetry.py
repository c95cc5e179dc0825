"""OpenTelemetry metrics and spans (issue 25, item 4), read with the SDK's in-memory reader and
exporter: what an operator's Prometheus or tracing backend would receive."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
import redis
from any_app import make_app
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clerk_fastapi.telemetry import instrument, route_of
from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def total(found: dict[str, list[Any]], name: str, **attributes: object) -> float:
    """The sum of the counter ``name`` (or the count of the histogram) over matching points."""
    result = 0.0
    for point in found.get(name, []):
        if all(point.attributes.get(k) == v for k, v in attributes.items()):
            result += getattr(point, "value", None) or getattr(point, "count", 0)
    return result


async def test_metrics_and_spans_without_a_token_or_secret(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    redis.Redis.from_url(redis_url).flushall()
    reader = InMemoryMetricReader()
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    clerk = fake_clerk.clerk(cache_url=redis_url, cache_timeout=5.0, bapi_rate_limit=4)
    instrument(clerk, MeterProvider(metric_readers=[reader]), tracer_provider)
    session, m2m = fake_clerk.session_token(), fake_clerk.m2m_token()
    bad = "mt_" + "b" * 40
    strangers = [fake_clerk.api_key() for _ in range(6)]
    sent = [session, session, m2m, bad, *strangers]
    transport = httpx.ASGITransport(app=make_app(clerk))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as c:
        statuses = [
            (await c.get("/any", headers={"Authorization": f"Bearer {t}"})).status_code
            for t in sent
        ]
        clerk.forget_token(session)
    assert statuses[:4] == [200, 200, 200, 401]
    assert 503 in statuses[4:]  # the rate guard (4 verify calls per window) refused some

    found = points(reader)
    assert total(found, "clerk_fastapi.decisions", **{"clerk.outcome": "authenticated"}) >= 3
    assert (
        total(
            found,
            "clerk_fastapi.decisions",
            **{"clerk.token_type": "m2m_token", "clerk.outcome": "rejected"},
        )
        == 1
    )
    assert total(found, "clerk_fastapi.decision.duration") == len(sent)
    assert total(found, "clerk_fastapi.rate_limit.refusals") == statuses.count(503)
    assert total(found, "clerk_fastapi.jwks.refreshes", **{"clerk.outcome": "ok"}) == 1
    verify = {"url.template": "/m2m_tokens/verify", "http.request.method": "POST"}
    assert total(found, "clerk_fastapi.backend_api.duration", **verify) == 2
    assert total(found, "clerk_fastapi.backend_api.errors", **verify) == 1  # the 404
    assert total(found, "clerk_fastapi.cache.lookups", **{"clerk.cache.tier": "local"}) >= 1
    assert total(found, "clerk_fastapi.redis.duration", **{"clerk.outcome": "ok"}) >= 1
    assert "clerk_fastapi.forgets.pending" in found

    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert "clerk.jwks.fetch" in names
    assert "clerk.backend_api POST /m2m_tokens/verify" in names
    assert "clerk.backend_api POST /api_keys/verify" in names
    assert "clerk.redis" in names

    # Nothing an attacker or a log reader could use: no token, no fingerprint, no secret.
    exported = [str(v) for pts in found.values() for p in pts for v in p.attributes.values()]
    exported += [str(v) for span in spans for v in (span.attributes or {}).values()]
    exported += [span.name for span in spans]
    secrets_ = [*sent, fake_clerk.secret_key]
    secrets_ += [hashlib.sha256(t.encode()).hexdigest()[:12] for t in sent]
    for value in exported:
        for secret in secrets_:
            assert secret not in value


def test_backend_api_routes_carry_no_identifiers() -> None:
    assert route_of("/v1/users/user_2NNEqL2nrIRdJ194ndJqAHwEfxC") == "/v1/users/{id}"
    assert route_of("/v1/machines/mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk/scopes") == (
        "/v1/machines/{id}/scopes"
    )
    assert route_of("/v1/oauth_applications?limit=10") == "/v1/oauth_applications"
    assert route_of("/api_keys/verify") == "/api_keys/verify"


def test_telemetry_setting_needs_nothing_else(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk(telemetry=True)  # the global (no-op) providers
    assert clerk.telemetry is not None
