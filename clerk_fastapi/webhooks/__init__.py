"""Clerk webhooks, verified exactly as ``@clerk/backend/webhooks`` ``verifyWebhook`` does.

```python
from clerk_fastapi.webhooks import verify_webhook, WebhookVerificationError

event = verify_webhook(request_headers, raw_body)   # secret: CLERK_WEBHOOK_SIGNING_SECRET
if event.type == "user.created":
    ...
```

No FastAPI here: the dependency is ``clerk_fastapi.ClerkWebhook`` (``fastapi_auth.webhook``).
"""

from clerk_fastapi.webhooks.dedupe import WebhookDeduplicator
from clerk_fastapi.webhooks.errors import WebhookErrorCode, WebhookVerificationError
from clerk_fastapi.webhooks.events import (
    EVENT_TYPES,
    BaseWebhookEvent,
    DeletedObjectData,
    EmailEvent,
    EventAttributes,
    OrganizationDeletedEvent,
    OrganizationDomainDeletedEvent,
    OrganizationDomainEvent,
    OrganizationEvent,
    OrganizationInvitationEvent,
    OrganizationMembershipEvent,
    PaymentAttemptEvent,
    PermissionEvent,
    RoleEvent,
    SessionEvent,
    SMSEvent,
    SubscriptionEvent,
    SubscriptionItemEvent,
    UnknownWebhookEvent,
    UserData,
    UserDeletedEvent,
    UserEvent,
    WaitlistEntryEvent,
    WebhookEvent,
)
from clerk_fastapi.webhooks.signing import sign
from clerk_fastapi.webhooks.verify import ENV_SECRET, verify_webhook

__all__ = [
    "ENV_SECRET",
    "EVENT_TYPES",
    "BaseWebhookEvent",
    "DeletedObjectData",
    "EmailEvent",
    "EventAttributes",
    "OrganizationDeletedEvent",
    "OrganizationDomainDeletedEvent",
    "OrganizationDomainEvent",
    "OrganizationEvent",
    "OrganizationInvitationEvent",
    "OrganizationMembershipEvent",
    "PaymentAttemptEvent",
    "PermissionEvent",
    "RoleEvent",
    "SMSEvent",
    "SessionEvent",
    "SubscriptionEvent",
    "SubscriptionItemEvent",
    "UnknownWebhookEvent",
    "UserData",
    "UserDeletedEvent",
    "UserEvent",
    "WaitlistEntryEvent",
    "WebhookDeduplicator",
    "WebhookErrorCode",
    "WebhookEvent",
    "WebhookVerificationError",
    "sign",
    "verify_webhook",
]
