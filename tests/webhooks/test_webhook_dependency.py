"""``Depends(ClerkWebhook())`` through a real FastAPI app: every refusal is a 400 with its code
(never 401/403/500), nothing secret is echoed, and each event family arrives typed."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import ClerkWebhook, ConfigurationError, document_webhooks
from clerk_fastapi.testing import FakeClerk, FrozenClock
from clerk_fastapi.webhooks import (
    EVENT_TYPES,
    EmailEvent,
    OrganizationDeletedEvent,
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
    UserDeletedEvent,
    UserEvent,
    WaitlistEntryEvent,
    WebhookErrorCode,
    WebhookEvent,
)

NOW = 1_795_000_000


@pytest.fixture
def frozen_clock() -> FrozenClock:
    """The plugin's ``fake_clerk`` runs on this clock: frozen at ``NOW``."""
    return FrozenClock(NOW)


ENV = "CLERK_WEBHOOK_SIGNING_SECRET"


def make_app(webhook: ClerkWebhook) -> tuple[FastAPI, list[Any]]:
    app = FastAPI()
    received: list[Any] = []

    @app.post("/webhooks/clerk")
    # A default, not Annotated: ``webhook`` is local, and annotations here are strings.
    async def clerk_webhook(event: WebhookEvent = Depends(webhook)) -> dict[str, str]:
        received.append(event)
        return {"type": event.type, "model": type(event).__name__}

    return app, received


def post(app: FastAPI, headers: dict[str, str], body: bytes) -> httpx.Response:
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        return client.post("/webhooks/clerk", headers=headers, content=body)


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def cases(fake_clerk: FakeClerk) -> list[tuple[str, dict[str, str], bytes, str | None]]:
    """(expected code, headers, body, environment secret) for every code."""
    good = fake_clerk.webhook("user.created")
    secret = fake_clerk.webhook_signing_secret
    stale = fake_clerk.webhook("user.created", timestamp=NOW - 301)
    future = fake_clerk.webhook("user.created", timestamp=NOW + 301)
    body = b"not json"
    from clerk_fastapi.webhooks import sign

    non_json = (
        {**good.headers, "svix-signature": sign(secret, good.headers["svix-id"], NOW, "not json")},
        body,
    )
    return [
        ("missing_signing_secret", good.headers, good.body, None),
        ("invalid_signing_secret", good.headers, good.body, "whsec_!!not-base64!!"),
        ("missing_headers", without(good.headers, "svix-id"), good.body, secret),
        ("missing_headers", without(good.headers, "svix-timestamp"), good.body, secret),
        ("missing_headers", without(good.headers, "svix-signature"), good.body, secret),
        ("invalid_timestamp", {**good.headers, "svix-timestamp": "soon"}, good.body, secret),
        ("timestamp_too_old", stale.headers, stale.body, secret),
        ("timestamp_too_new", future.headers, future.body, secret),
        ("invalid_signature", good.headers, good.body.replace(b"Example", b"Eve"), secret),
        ("invalid_signature", good.headers, good.body, "whsec_" + "A" * 32),
        ("malformed_body", *non_json, secret),
        ("malformed_body", *_signed(fake_clerk, b"[]"), secret),
        ("malformed_body", *_signed(fake_clerk, b'{"type":"user.created","data":"x"}'), secret),
    ]


def _signed(fake_clerk: FakeClerk, body: bytes) -> tuple[dict[str, str], bytes]:
    from clerk_fastapi.webhooks import sign

    headers = {
        "svix-id": "msg_raw",
        "svix-timestamp": str(NOW),
        "svix-signature": sign(fake_clerk.webhook_signing_secret, "msg_raw", NOW, body.decode()),
    }
    return headers, body


def test_every_error_code_is_a_400_with_its_code(
    fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app, received = make_app(ClerkWebhook(clock=fake_clerk.clock))
    seen = set()
    caplog.set_level(logging.DEBUG, logger="clerk_fastapi")
    for code, headers, body, env in cases(fake_clerk):
        if env is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, env)
        response = post(app, headers, body)
        assert response.status_code == 400, (code, response.text)
        detail = response.json()["detail"]
        assert detail == {"error": "invalid_webhook", "reason": code, "message": detail["message"]}
        seen.add(code)
        # Neither the secret nor a signature comes back, or reaches the log.
        hidden = [fake_clerk.webhook_signing_secret.removeprefix("whsec_"), (env or "x" * 9)[6:]]
        hidden += [sig.split(",")[-1] for sig in headers.get("svix-signature", "").split()]
        for text in hidden:
            assert text not in response.text
            assert text not in caplog.text
    assert seen == {code.value for code in WebhookErrorCode}
    assert received == []


def test_the_secret_in_code_wins_and_a_bad_one_fails_at_declaration(
    fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "whsec_" + base64.b64encode(b"some other secret 123456").decode())
    app, received = make_app(
        ClerkWebhook(fake_clerk.webhook_signing_secret, clock=fake_clerk.clock)
    )
    delivery = fake_clerk.webhook("user.created")
    assert post(app, *delivery).status_code == 200
    assert [e.delivery_id for e in received] == [delivery.headers["svix-id"]]
    with pytest.raises(ConfigurationError, match="base64") as info:
        ClerkWebhook("whsec_not base64!")
    assert "not base64!" not in str(info.value)
    with pytest.raises(ConfigurationError):
        ClerkWebhook("")


def test_rotation_accepts_either_secret(fake_clerk: FakeClerk) -> None:
    old = "whsec_" + base64.b64encode(b"the previous secret 1234").decode()
    app, received = make_app(
        ClerkWebhook([fake_clerk.webhook_signing_secret, old], clock=fake_clerk.clock)
    )
    assert post(app, *fake_clerk.webhook("user.updated")).status_code == 200
    assert post(app, *fake_clerk.webhook("user.updated", signing_secret=old)).status_code == 200
    other = "whsec_" + base64.b64encode(b"not one of the two 12345").decode()
    assert post(app, *fake_clerk.webhook("user.updated", signing_secret=other)).status_code == 400
    assert len(received) == 2


EXPECTED = {
    "user.created": UserEvent,
    "user.updated": UserEvent,
    "user.deleted": UserDeletedEvent,
    "session.created": SessionEvent,
    "session.revoked": SessionEvent,
    "organization.created": OrganizationEvent,
    "organization.deleted": OrganizationDeletedEvent,
    "organizationMembership.created": OrganizationMembershipEvent,
    "organizationInvitation.accepted": OrganizationInvitationEvent,
    "role.created": RoleEvent,
    "permission.updated": PermissionEvent,
    "email.created": EmailEvent,
    "sms.created": SMSEvent,
    "waitlistEntry.created": WaitlistEntryEvent,
    "subscription.active": SubscriptionEvent,
    "subscriptionItem.canceled": SubscriptionItemEvent,
    "paymentAttempt.updated": PaymentAttemptEvent,
    "brandNew.thing": UnknownWebhookEvent,
}


@pytest.mark.parametrize("event_type", sorted(EXPECTED))
def test_each_family_arrives_typed(
    fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch, event_type: str
) -> None:
    monkeypatch.setenv(ENV, fake_clerk.webhook_signing_secret)
    app, received = make_app(ClerkWebhook(clock=fake_clerk.clock))
    data = {"id": "id_given", "new_field_clerk_added": {"x": 1}}
    response = fake_clerk.deliver(app, event_type, data)
    assert response.status_code == 200, response.text
    (event,) = received
    assert type(event) is EXPECTED[event_type]
    assert response.json() == {"type": event_type, "model": EXPECTED[event_type].__name__}
    assert event.object == "event" and event.instance_id == fake_clerk.instance_id
    assert event.timestamp == NOW * 1000
    assert event.delivery_timestamp == NOW and event.delivery_id.startswith("msg_")
    assert event.event_attributes is not None and event.event_attributes.http_request
    if isinstance(event, UnknownWebhookEvent):
        assert event.data == data  # a type we do not know still verifies, data as sent
    else:
        assert event.data.id == "id_given"
        assert event.data.model_extra["new_field_clerk_added"] == {"x": 1}


def test_typed_fields(fake_clerk: FakeClerk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, fake_clerk.webhook_signing_secret)
    app, received = make_app(ClerkWebhook(clock=fake_clerk.clock))
    fake_clerk.deliver(app, "user.created", {"first_name": "Ada"})
    fake_clerk.deliver(app, "session.revoked")
    fake_clerk.deliver(app, "organizationMembership.created", {"role": "org:admin"})
    fake_clerk.deliver(app, "subscription.created")
    user, session, membership, subscription = received
    assert user.data.first_name == "Ada"
    assert user.data.primary_email_address == "example@example.org"
    assert session.data.user is not None and session.data.status == "revoked"
    assert membership.data.role == "org:admin"
    assert membership.data.organization.slug == "acme-inc"
    assert subscription.data.items[0].plan_period == "month"


def test_every_typed_event_type_has_a_fake_factory(fake_clerk: FakeClerk) -> None:
    from clerk_fastapi.webhooks import verify_webhook

    for event_type in EVENT_TYPES:
        delivery = fake_clerk.webhook(event_type)
        event = verify_webhook(
            delivery.headers,
            delivery.body,
            signing_secret=fake_clerk.webhook_signing_secret,
            now=NOW,
        )
        assert not isinstance(event, UnknownWebhookEvent), event_type
        assert event.data.object, event_type


def test_openapi_documents_the_body_and_the_400(fake_clerk: FakeClerk) -> None:
    app, _ = make_app(ClerkWebhook(fake_clerk.webhook_signing_secret))
    document_webhooks(app)
    operation = app.openapi()["paths"]["/webhooks/clerk"]["post"]
    assert "application/json" in operation["requestBody"]["content"]
    reasons = operation["responses"]["400"]["content"]["application/json"]["schema"]
    assert "invalid_signature" in json.dumps(reasons)
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"svix-id", "svix-timestamp", "svix-signature"}
    assert "UserEvent" in app.openapi()["components"]["schemas"]


def test_openapi_documented_with_a_clerk_attached(fake_clerk: FakeClerk) -> None:
    app, _ = make_app(ClerkWebhook(fake_clerk.webhook_signing_secret))
    fake_clerk.clerk().install(app)
    operation = app.openapi()["paths"]["/webhooks/clerk"]["post"]
    assert "400" in operation["responses"] and "requestBody" in operation


def test_a_retry_of_one_message_verifies_again(fake_clerk: FakeClerk) -> None:
    """Clerk's verifyWebhook does not deduplicate, nor does the dependency (the helper does)."""
    app, received = make_app(
        ClerkWebhook(fake_clerk.webhook_signing_secret, clock=fake_clerk.clock)
    )
    delivery = fake_clerk.webhook("user.created")
    assert post(app, *delivery).status_code == 200
    assert post(app, *delivery).status_code == 200
    assert received[0].delivery_id == received[1].delivery_id


def test_plugin_sets_the_secret(
    use_fake_clerk: Any, fake_clerk: FakeClerk, frozen_clock: FrozenClock
) -> None:
    frozen_clock.set(time.time())  # ``ClerkWebhook()`` checks timestamps on the real clock
    app, received = make_app(ClerkWebhook())
    use_fake_clerk(app)
    assert fake_clerk.deliver(app, "user.created").status_code == 200
    assert isinstance(received[0], UserEvent)
