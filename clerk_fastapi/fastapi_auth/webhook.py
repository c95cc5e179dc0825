"""``ClerkWebhook``: the dependency a Clerk webhook route declares.

It reads the raw body once, verifies the delivery with ``clerk_fastapi.webhooks.verify_webhook``
(Clerk's ``verifyWebhook`` decisions) and hands the route a typed event. A delivery that does not
verify is answered 400 with the error code: never 401/403 (Svix would treat them like any
failure) and never 500, so Svix retries, and a log line says why without the secret or the
signature.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Header, HTTPException
from starlette.requests import Request

from clerk_fastapi.errors import ConfigurationError
from clerk_fastapi.webhooks.errors import WebhookErrorCode, WebhookVerificationError
from clerk_fastapi.webhooks.events import EVENT_ADAPTER, WebhookEvent
from clerk_fastapi.webhooks.verify import check_signing_secret, verify_webhook

logger = logging.getLogger("clerk_fastapi")

# Our server's configuration, not the sender's fault: logged as errors.
_SETUP_CODES = frozenset(
    {WebhookErrorCode.MISSING_SIGNING_SECRET, WebhookErrorCode.INVALID_SIGNING_SECRET}
)


class ClerkWebhook:
    """``Depends(ClerkWebhook())`` gives the route the verified event (``WebhookEvent``).

    ``signing_secret``: the endpoint's ``whsec_...`` Signing Secret, or a list of them while
    rotating (any one may match); default ``CLERK_WEBHOOK_SIGNING_SECRET``, read on each
    delivery as Clerk does. A secret given here that can never verify anything raises
    ``ConfigurationError`` at once. ``clock``: seconds since the epoch (tests freeze it).
    """

    def __init__(
        self,
        signing_secret: str | Sequence[str] | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if signing_secret is not None:
            try:
                check_signing_secret(signing_secret)
            except WebhookVerificationError as exc:
                raise ConfigurationError(
                    f"ClerkWebhook(signing_secret=...): {exc.message}"
                ) from None
            if not isinstance(signing_secret, str):
                signing_secret = tuple(signing_secret)
        self.signing_secret = signing_secret
        self.clock = clock or time.time

    async def __call__(
        self,
        request: Request,
        # Declared so that the OpenAPI document lists them; the values are read from the
        # request itself (every line of each, as Clerk's Fetch ``Headers`` join them).
        svix_id: Annotated[str | None, Header(alias="svix-id", description="Message id.")] = None,
        svix_timestamp: Annotated[
            str | None, Header(alias="svix-timestamp", description="Unix seconds.")
        ] = None,
        svix_signature: Annotated[
            str | None,
            Header(alias="svix-signature", description="Space-separated `v1,<base64>` list."),
        ] = None,
    ) -> WebhookEvent:
        body = await request.body()
        try:
            return verify_webhook(
                request.headers.items(),
                body,
                signing_secret=self.signing_secret,
                now=self.clock(),
            )
        except WebhookVerificationError as exc:
            level = logging.ERROR if exc.error_code in _SETUP_CODES else logging.INFO
            logger.log(level, "Clerk webhook refused (%s): %s", exc.code, exc.message)
            raise HTTPException(
                status_code=400,
                detail={"error": "invalid_webhook", "reason": exc.code, "message": exc.message},
            ) from None


# -- OpenAPI -------------------------------------------------------------------------------------

WEBHOOK_400 = {
    "description": "The delivery does not verify (Svix retries it); `reason` says why.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "detail": {
                        "type": "object",
                        "properties": {
                            "error": {"type": "string", "enum": ["invalid_webhook"]},
                            "reason": {
                                "type": "string",
                                "enum": [code.value for code in WebhookErrorCode],
                            },
                            "message": {"type": "string"},
                        },
                        "required": ["error", "reason", "message"],
                    }
                },
                "required": ["detail"],
            },
            "example": {
                "detail": {
                    "error": "invalid_webhook",
                    "reason": "invalid_signature",
                    "message": "no v1 signature in svix-signature matches the body under the "
                    "signing secret",
                }
            },
        }
    },
}


def _uses_webhook(dependant: Any) -> bool:
    if isinstance(getattr(dependant, "call", None), ClerkWebhook):
        return True
    return any(_uses_webhook(sub) for sub in getattr(dependant, "dependencies", ()))


def document_webhook_routes(schema: dict[str, Any], app: Any) -> None:
    """Give each operation that depends on ``ClerkWebhook`` its request body (a Clerk event,
    as JSON) and its 400 answer."""
    definitions: dict[str, Any] | None = None
    for route in getattr(app, "routes", ()):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not _uses_webhook(dependant):
            continue
        item = schema.get("paths", {}).get(getattr(route, "path_format", ""), {})
        for method in getattr(route, "methods", None) or ():
            operation = item.get(method.lower())
            if not isinstance(operation, dict):
                continue
            if definitions is None:
                definitions = EVENT_ADAPTER.json_schema(
                    mode="serialization", ref_template="#/components/schemas/{model}"
                )
                components = schema.setdefault("components", {}).setdefault("schemas", {})
                for name, model in definitions.pop("$defs", {}).items():
                    components.setdefault(name, model)
            operation.setdefault(
                "requestBody",
                {
                    "required": True,
                    "description": "A Clerk webhook event, signed by Svix (verified raw).",
                    "content": {"application/json": {"schema": definitions}},
                },
            )
            operation.setdefault("responses", {}).setdefault("400", WEBHOOK_400)
