"""The soak's app, under ``uvicorn --workers N``: settings from CLERK_*, a forget endpoint as a
revocation webhook would be, memory and OpenTelemetry figures per worker."""

from __future__ import annotations

import hmac
import os
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request

from clerk_fastapi import Auth, Clerk

clerk = Clerk()
app = FastAPI(lifespan=clerk.lifespan)
reader: Any = None
if os.environ.get("SOAK_METRICS") == "1":
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from clerk_fastapi.telemetry import instrument

    reader = InMemoryMetricReader()
    clerk.telemetry = instrument(clerk, meter_provider=MeterProvider(metric_readers=[reader]))


@app.get("/any")
async def any_route(auth: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
    return {"t": auth.token_type}


@app.post("/forget")
async def forget(request: Request, x_soak_secret: str = Header("")) -> dict[str, Any]:
    """What docs/caching.md tells users to do from a revocation webhook."""
    if not hmac.compare_digest(x_soak_secret, os.environ["SOAK_FORGET_SECRET"]):
        raise HTTPException(403)
    for token in (await request.json())["tokens"]:
        clerk.forget_token(token)
    return {"pid": os.getpid()}


@app.get("/_worker")
async def worker() -> dict[str, Any]:
    rss = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"pid": os.getpid(), "rss_kb": rss, "metrics": metrics()}


def metrics() -> dict[str, float]:
    """This worker's OpenTelemetry figures (name and attributes -> sum or count)."""
    if reader is None:
        return {}
    found: dict[str, float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(point.attributes.items()))
                    value = getattr(point, "value", None)
                    if value is None:
                        value = getattr(point, "count", 0)
                    found[f"{metric.name}{{{labels}}}"] = float(value)
    return found
