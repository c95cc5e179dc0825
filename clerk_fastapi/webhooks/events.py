"""Typed Clerk webhook events: a pydantic discriminated union on ``type``.

One model per family of ``@clerk/backend`` 3.25.0's ``WebhookEvent`` union (``Webhooks.d.ts``),
its ``data`` typed after Clerk's ``*JSON`` interfaces. Every field of ``data`` is optional and
every field Clerk adds is kept (``extra="allow"``: ``event.data.model_extra``), so a payload
with a new field or without an old one still verifies; values are checked strictly (no
coercion), so what a route reads is what Clerk sent. A ``type`` this package does not know
arrives as ``UnknownWebhookEvent`` with ``data`` as a plain dict: Clerk adds event types, and a
new one must not be refused.

Beside Clerk's fields, each event carries the delivery: ``delivery_id`` (``svix-id``, the same
on every retry of one message: the key for deduplication) and ``delivery_timestamp``
(``svix-timestamp``, seconds).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


# -- event envelope parts ----------------------------------------------------------------------


class HTTPRequestAttributes(_Strict):
    client_ip: str | None = None
    user_agent: str | None = None


class EventAttributes(_Strict):
    """``event_attributes``: the request that caused the event, when a user's request did."""

    http_request: HTTPRequestAttributes | None = None


# -- data objects (Clerk's JSON.d.ts) ---------------------------------------------------------


class ResourceData(_Strict):
    """Fields every Clerk resource has."""

    object: str | None = None
    id: str | None = None


class EmailAddressData(ResourceData):
    email_address: str | None = None
    verification: dict[str, Any] | None = None
    linked_to: list[dict[str, Any]] | None = None


class PhoneNumberData(ResourceData):
    phone_number: str | None = None
    verification: dict[str, Any] | None = None


class UserData(ResourceData):
    """``UserJSON``."""

    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    image_url: str | None = None
    has_image: bool | None = None
    primary_email_address_id: str | None = None
    primary_phone_number_id: str | None = None
    primary_web3_wallet_id: str | None = None
    password_enabled: bool | None = None
    two_factor_enabled: bool | None = None
    email_addresses: list[EmailAddressData] | None = None
    phone_numbers: list[PhoneNumberData] | None = None
    external_accounts: list[dict[str, Any]] | None = None
    external_id: str | None = None
    public_metadata: dict[str, Any] | None = None
    private_metadata: dict[str, Any] | None = None
    unsafe_metadata: dict[str, Any] | None = None
    banned: bool | None = None
    locked: bool | None = None
    last_sign_in_at: int | None = None
    last_active_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None

    @property
    def primary_email_address(self) -> str | None:
        """The address of ``primary_email_address_id`` among ``email_addresses``."""
        for entry in self.email_addresses or ():
            if entry.id is not None and entry.id == self.primary_email_address_id:
                return entry.email_address
        return None


class DeletedObjectData(ResourceData):
    """``DeletedObjectJSON`` (``user.deleted`` also carries ``external_id``)."""

    slug: str | None = None
    deleted: bool | None = None
    external_id: str | None = None


class SessionData(ResourceData):
    """``SessionWebhookEventJSON``: the session and its user."""

    client_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    last_active_organization_id: str | None = None
    actor: dict[str, Any] | None = None
    last_active_at: int | None = None
    expire_at: int | None = None
    abandon_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None
    user: UserData | None = None


class OrganizationData(ResourceData):
    name: str | None = None
    slug: str | None = None
    image_url: str | None = None
    has_image: bool | None = None
    members_count: int | None = None
    max_allowed_memberships: int | None = None
    public_metadata: dict[str, Any] | None = None
    private_metadata: dict[str, Any] | None = None
    created_by: str | None = None
    created_at: int | None = None
    updated_at: int | None = None


class PublicUserData(_Strict):
    user_id: str | None = None
    identifier: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    image_url: str | None = None


class OrganizationMembershipData(ResourceData):
    role: str | None = None
    permissions: list[str] | None = None
    public_metadata: dict[str, Any] | None = None
    private_metadata: dict[str, Any] | None = None
    organization: OrganizationData | None = None
    public_user_data: PublicUserData | None = None
    created_at: int | None = None
    updated_at: int | None = None


class OrganizationInvitationData(ResourceData):
    email_address: str | None = None
    role: str | None = None
    role_name: str | None = None
    organization_id: str | None = None
    status: str | None = None
    user_id: str | None = None  # organizationInvitation.accepted
    public_metadata: dict[str, Any] | None = None
    private_metadata: dict[str, Any] | None = None
    url: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    expires_at: int | None = None


class OrganizationDomainData(ResourceData):
    name: str | None = None
    organization_id: str | None = None
    enrollment_mode: str | None = None
    verification: dict[str, Any] | None = None
    affiliation_email_address: str | None = None
    created_at: int | None = None
    updated_at: int | None = None


class PermissionData(ResourceData):
    key: str | None = None
    name: str | None = None
    description: str | None = None
    created_at: int | None = None
    updated_at: int | None = None


class RoleData(ResourceData):
    key: str | None = None
    name: str | None = None
    description: str | None = None
    permissions: list[PermissionData] | None = None
    is_creator_eligible: bool | None = None
    created_at: int | None = None
    updated_at: int | None = None


class EmailData(ResourceData):
    slug: str | None = None
    from_email_name: str | None = None
    to_email_address: str | None = None
    email_address_id: str | None = None
    user_id: str | None = None
    subject: str | None = None
    body: str | None = None
    body_plain: str | None = None
    status: str | None = None
    data: dict[str, Any] | None = None
    delivered_by_clerk: bool | None = None


class SMSData(ResourceData):
    from_phone_number: str | None = None
    to_phone_number: str | None = None
    phone_number_id: str | None = None
    user_id: str | None = None
    message: str | None = None
    status: str | None = None
    slug: str | None = None
    data: dict[str, Any] | None = None
    delivered_by_clerk: bool | None = None


class WaitlistEntryData(ResourceData):
    status: str | None = None
    email_address: str | None = None
    invitation: dict[str, Any] | None = None
    is_locked: bool | None = None
    created_at: int | None = None
    updated_at: int | None = None


class SubscriptionItemData(ResourceData):
    status: str | None = None
    plan_id: str | None = None
    plan: dict[str, Any] | None = None
    plan_period: str | None = None
    payer: dict[str, Any] | None = None
    period_start: int | None = None
    period_end: int | None = None
    canceled_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


class SubscriptionData(ResourceData):
    status: str | None = None
    payer_id: str | None = None
    payer: dict[str, Any] | None = None
    items: list[SubscriptionItemData] | None = None
    latest_payment_id: str | None = None
    active_at: int | None = None
    canceled_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


class PaymentAttemptData(ResourceData):
    payment_id: str | None = None
    statement_id: str | None = None
    status: str | None = None
    charge_type: str | None = None
    payer: dict[str, Any] | None = None
    totals: dict[str, Any] | None = None
    paid_at: int | None = None
    failed_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


# -- events ------------------------------------------------------------------------------------


class BaseWebhookEvent(BaseModel):
    """What every event has: Clerk's ``{type, object, data, event_attributes, timestamp,
    instance_id}`` and the delivery's ``svix-id`` and ``svix-timestamp``."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    type: str
    object: Literal["event"] = "event"
    data: Any
    event_attributes: EventAttributes | None = None
    timestamp: int | None = Field(None, description="When Clerk created the event (ms).")
    instance_id: str | None = None
    # From the headers, not the body: readOnly keeps them out of the documented request body.
    delivery_id: str = Field(
        description="The svix-id header: one message, the same on every retry (deduplicate on it).",
        json_schema_extra={"readOnly": True},
    )
    delivery_timestamp: int = Field(
        description="The svix-timestamp header (seconds).", json_schema_extra={"readOnly": True}
    )


class UserEvent(BaseWebhookEvent):
    type: Literal["user.created", "user.updated"]
    data: UserData


class UserDeletedEvent(BaseWebhookEvent):
    type: Literal["user.deleted"]
    data: DeletedObjectData


class SessionEvent(BaseWebhookEvent):
    type: Literal["session.created", "session.ended", "session.removed", "session.revoked"]
    data: SessionData


class OrganizationEvent(BaseWebhookEvent):
    type: Literal["organization.created", "organization.updated"]
    data: OrganizationData


class OrganizationDeletedEvent(BaseWebhookEvent):
    type: Literal["organization.deleted"]
    data: DeletedObjectData


class OrganizationDomainEvent(BaseWebhookEvent):
    type: Literal["organizationDomain.created", "organizationDomain.updated"]
    data: OrganizationDomainData


class OrganizationDomainDeletedEvent(BaseWebhookEvent):
    type: Literal["organizationDomain.deleted"]
    data: DeletedObjectData


class OrganizationMembershipEvent(BaseWebhookEvent):
    type: Literal[
        "organizationMembership.created",
        "organizationMembership.updated",
        "organizationMembership.deleted",
    ]
    data: OrganizationMembershipData


class OrganizationInvitationEvent(BaseWebhookEvent):
    type: Literal[
        "organizationInvitation.created",
        "organizationInvitation.accepted",
        "organizationInvitation.revoked",
    ]
    data: OrganizationInvitationData


class RoleEvent(BaseWebhookEvent):
    type: Literal["role.created", "role.updated", "role.deleted"]
    data: RoleData


class PermissionEvent(BaseWebhookEvent):
    type: Literal["permission.created", "permission.updated", "permission.deleted"]
    data: PermissionData


class EmailEvent(BaseWebhookEvent):
    type: Literal["email.created"]
    data: EmailData


class SMSEvent(BaseWebhookEvent):
    type: Literal["sms.created"]
    data: SMSData


class WaitlistEntryEvent(BaseWebhookEvent):
    type: Literal["waitlistEntry.created", "waitlistEntry.updated"]
    data: WaitlistEntryData


class SubscriptionEvent(BaseWebhookEvent):
    type: Literal[
        "subscription.created",
        "subscription.updated",
        "subscription.active",
        "subscription.pastDue",
    ]
    data: SubscriptionData


class SubscriptionItemEvent(BaseWebhookEvent):
    type: Literal[
        "subscriptionItem.created",
        "subscriptionItem.updated",
        "subscriptionItem.active",
        "subscriptionItem.canceled",
        "subscriptionItem.upcoming",
        "subscriptionItem.ended",
        "subscriptionItem.abandoned",
        "subscriptionItem.incomplete",
        "subscriptionItem.pastDue",
        "subscriptionItem.freeTrialEnding",
    ]
    data: SubscriptionItemData


class PaymentAttemptEvent(BaseWebhookEvent):
    type: Literal["paymentAttempt.created", "paymentAttempt.updated"]
    data: PaymentAttemptData


class UnknownWebhookEvent(BaseWebhookEvent):
    """An event type this version does not model: verified all the same, ``data`` as sent."""

    data: Any = None


TYPED_EVENTS: tuple[type[BaseWebhookEvent], ...] = (
    UserEvent,
    UserDeletedEvent,
    SessionEvent,
    OrganizationEvent,
    OrganizationDeletedEvent,
    OrganizationDomainEvent,
    OrganizationDomainDeletedEvent,
    OrganizationMembershipEvent,
    OrganizationInvitationEvent,
    RoleEvent,
    PermissionEvent,
    EmailEvent,
    SMSEvent,
    WaitlistEntryEvent,
    SubscriptionEvent,
    SubscriptionItemEvent,
    PaymentAttemptEvent,
)

# event type -> the model that carries it
EVENT_MODELS: dict[str, type[BaseWebhookEvent]] = {
    value: model
    for model in TYPED_EVENTS
    for value in get_args(model.model_fields["type"].annotation)
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_MODELS)


def _tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    model = EVENT_MODELS.get(kind) if isinstance(kind, str) else None
    return model.__name__ if model is not None else UnknownWebhookEvent.__name__


WebhookEvent = Annotated[
    Union[  # noqa: UP007 (a runtime union of Annotated members)
        Annotated[UserEvent, Tag("UserEvent")],
        Annotated[UserDeletedEvent, Tag("UserDeletedEvent")],
        Annotated[SessionEvent, Tag("SessionEvent")],
        Annotated[OrganizationEvent, Tag("OrganizationEvent")],
        Annotated[OrganizationDeletedEvent, Tag("OrganizationDeletedEvent")],
        Annotated[OrganizationDomainEvent, Tag("OrganizationDomainEvent")],
        Annotated[OrganizationDomainDeletedEvent, Tag("OrganizationDomainDeletedEvent")],
        Annotated[OrganizationMembershipEvent, Tag("OrganizationMembershipEvent")],
        Annotated[OrganizationInvitationEvent, Tag("OrganizationInvitationEvent")],
        Annotated[RoleEvent, Tag("RoleEvent")],
        Annotated[PermissionEvent, Tag("PermissionEvent")],
        Annotated[EmailEvent, Tag("EmailEvent")],
        Annotated[SMSEvent, Tag("SMSEvent")],
        Annotated[WaitlistEntryEvent, Tag("WaitlistEntryEvent")],
        Annotated[SubscriptionEvent, Tag("SubscriptionEvent")],
        Annotated[SubscriptionItemEvent, Tag("SubscriptionItemEvent")],
        Annotated[PaymentAttemptEvent, Tag("PaymentAttemptEvent")],
        Annotated[UnknownWebhookEvent, Tag("UnknownWebhookEvent")],
    ],
    Discriminator(_tag),
]
"""Every Clerk webhook event: one of the typed models above, chosen by ``type``, else
``UnknownWebhookEvent``. Use ``isinstance`` or ``match`` on the model, or compare ``event.type``."""

EVENT_ADAPTER: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent)
