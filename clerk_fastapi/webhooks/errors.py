"""``WebhookVerificationError``: one exception, one stable code per cause.

Messages are fixed texts: none holds the secret, a signature or the body.
"""

from __future__ import annotations

from enum import Enum

from clerk_fastapi.errors import ClerkError


class WebhookErrorCode(str, Enum):
    """Why a delivery was refused, in the order Clerk's ``verifyWebhook`` checks."""

    # No secret given and CLERK_WEBHOOK_SIGNING_SECRET unset or empty.
    MISSING_SIGNING_SECRET = "missing_signing_secret"
    # svix-id, svix-timestamp or svix-signature absent or blank.
    MISSING_HEADERS = "missing_headers"
    # The secret is not (whsec_) base64: Clerk throws from `new Webhook(secret)`.
    INVALID_SIGNING_SECRET = "invalid_signing_secret"
    # svix-timestamp does not start with a number.
    INVALID_TIMESTAMP = "invalid_timestamp"
    TIMESTAMP_TOO_OLD = "timestamp_too_old"
    TIMESTAMP_TOO_NEW = "timestamp_too_new"
    # No `v1` signature in svix-signature matches the body under the secret.
    INVALID_SIGNATURE = "invalid_signature"
    # The signature matched but the body is empty, not JSON, or not an event object.
    MALFORMED_BODY = "malformed_body"


class WebhookVerificationError(ClerkError):
    """A delivery that does not verify; ``code`` (a ``WebhookErrorCode`` value) says why.

    The FastAPI dependency answers it with 400 ``{"detail": {"error": code, "message": ...}}``.
    """

    code = "webhook-verification-failed"

    def __init__(self, code: WebhookErrorCode, message: str) -> None:
        super().__init__(message, code=code.value)
        self.error_code = code

    def __repr__(self) -> str:
        return f"WebhookVerificationError({self.code!r})"
