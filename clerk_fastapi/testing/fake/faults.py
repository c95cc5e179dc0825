"""Fault injection and request recording for the fake's endpoints."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from starlette.responses import JSONResponse, Response

FaultMode = Literal["down", "slow", "status", "malformed"]


@dataclass
class Fault:
    mode: FaultMode
    status: int = 500
    delay: float = 0.0
    retry_after: float | None = None
    remaining: int | None = None  # None: until cleared


@dataclass
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    json: Any


async def fault_response(faults: dict[str, Fault], name: str) -> Response | None:
    """Apply the fault set for endpoint ``name`` (or ``*``): raise, delay, or answer for it."""
    fault = faults.get(name) or faults.get("*")
    if fault is None:
        return None
    if fault.remaining is not None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            for key in [k for k, v in faults.items() if v is fault]:
                del faults[key]
    if fault.mode == "down":
        raise httpx.ConnectError("fake Clerk is down")
    if fault.mode == "slow":
        await asyncio.sleep(fault.delay)
        return None
    if fault.mode == "malformed":
        return Response("<html>not json", media_type="text/html")
    headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
    return JSONResponse(
        {
            "errors": [
                {"message": "fault injected", "long_message": "fault injected", "code": "fault"}
            ]
        },
        status_code=fault.status,
        headers=headers,
    )
