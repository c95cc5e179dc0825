"""Every answer of the fake checked against Clerk's OpenAPI spec (the subset vendored in
tests/data/clerk-openapi/, MIT, with its commit).

``SpecChecked(app)`` wraps the fake's ASGI app: whoever calls it (this package's client, the
Python SDK in-process, anything over uvicorn), each Backend API answer is validated against the
operation's schema for its status, and the operations seen are recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "clerk-openapi" / "bapi-2026-05-12.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())

# Where the fake takes the official SDK's side against the spec (docs/testing.md): the status
# it answers -> the status whose schema describes that answer.
DELIBERATE_STATUS = {("post", "/api_keys"): {201: "200"}}


def _deref(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            _, section, kind, name = node["$ref"].split("/")
            return _deref(SPEC[section][kind][name])
        return {key: _deref(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_deref(item) for item in node]
    return node


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    (method, path): _deref(op)
    for path, ops in SPEC["paths"].items()
    for method, op in ops.items()
    if method in ("get", "post", "patch", "delete")
}
# Literal paths first, so /api_keys/verify is not taken for /api_keys/{apiKeyID}.
_MATCHERS = sorted(
    ((_template(path), method, path) for method, path in OPERATIONS),
    key=lambda entry: entry[2].count("{"),
)
ERROR_SCHEMA = _deref(SPEC["components"]["schemas"]["ClerkErrors"])


def operation_of(method: str, path: str) -> tuple[str, str] | None:
    bare = path.removeprefix("/v1") or "/"
    for pattern, op_method, template in _MATCHERS:
        if op_method == method.lower() and pattern.match(bare):
            return op_method, template
    return None


@dataclass
class SpecChecked:
    app: Any
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def check(self, method: str, path: str, status: int, body: bytes, ctype: str) -> None:
        op = operation_of(method, path)
        if op is None:
            return  # the fake's Frontend API and control endpoints are not Backend API
        self.seen.add((*op, status))
        where = f"{method} {path} -> {status}"
        if ctype != "application/json":
            self.problems.append(f"{where}: content-type {ctype!r}")
            return
        data = json.loads(body)
        key = DELIBERATE_STATUS.get(op, {}).get(status, str(status))
        response = OPERATIONS[op]["responses"].get(key)
        if response is None and status < 400:
            self.problems.append(f"{where}: the spec lists no such status")
            return
        schema = (
            response["content"]["application/json"]["schema"]
            if response is not None
            else ERROR_SCHEMA  # an error status the spec does not list for this operation
        )
        errors = [e.message for e in OAS30Validator(schema).iter_errors(data)]
        if status >= 400:
            errors += [e.message for e in OAS30Validator(ERROR_SCHEMA).iter_errors(data)]
            if not data.get("clerk_trace_id"):
                errors.append("no clerk_trace_id")
        if errors:
            self.problems.append(f"{where}: {errors[:3]}")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.update({k.decode(): v.decode() for k, v in message.get("headers", [])})
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.check(
                        scope["method"],
                        scope["path"],
                        status,
                        b"".join(chunks),
                        headers.get("content-type", ""),
                    )
            await send(message)

        await self.app(scope, receive, sending)
