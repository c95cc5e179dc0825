"""The fake Clerk's webhooks: Clerk-shaped event payloads, signed the way Svix signs them.

``fake.webhook("user.created", {"first_name": "Ada"})`` returns ``(headers, body)`` that
``ClerkWebhook`` (and Clerk's own ``verifyWebhook``, checked by ``make parity``) accepts under
``fake.webhook_signing_secret``; ``fake.deliver(app_or_url, "user.created")`` posts one.
The ``data`` objects follow Clerk's ``*JSON`` shapes and the example payloads of Clerk's
webhook docs; fields given in ``data`` replace the defaults (a shallow merge).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from functools import cached_property
from typing import Any, NamedTuple

import httpx

from clerk_fastapi.webhooks.signing import decode_body, sign

DEFAULT_PATH = "/webhooks/clerk"


class WebhookDelivery(NamedTuple):
    """One signed delivery: the Svix headers (and content type) and the exact body bytes."""

    headers: dict[str, str]
    body: bytes


def new_signing_secret() -> str:
    """A secret like the dashboard's: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(13)


def _user(now_ms: int, **_: Any) -> dict[str, Any]:
    email_id = _id("idn_")
    return {
        "object": "user",
        "id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "username": None,
        "first_name": "Example",
        "last_name": "User",
        "image_url": "https://img.clerk.com/placeholder",
        "has_image": False,
        "primary_email_address_id": email_id,
        "primary_phone_number_id": None,
        "primary_web3_wallet_id": None,
        "password_enabled": True,
        "two_factor_enabled": False,
        "email_addresses": [
            {
                "object": "email_address",
                "id": email_id,
                "email_address": "example@example.org",
                "verification": {"status": "verified", "strategy": "email_code"},
                "linked_to": [],
            }
        ],
        "phone_numbers": [],
        "web3_wallets": [],
        "external_accounts": [],
        "external_id": None,
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "banned": False,
        "locked": False,
        "last_sign_in_at": None,
        "last_active_at": None,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _deleted(kind: str) -> Callable[..., dict[str, Any]]:
    def build(now_ms: int, **_: Any) -> dict[str, Any]:
        ids = {
            "user": "user_29w83sxmDNGwOuEthce5gg56FcC",
            "organization": "org_29w9IfBrPmcpi0IeBVaKtA7R94W",
        }
        return {"object": kind, "id": ids.get(kind, _id("id_")), "deleted": True}

    return build


def _organization(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "organization",
        "id": "org_29w9IfBrPmcpi0IeBVaKtA7R94W",
        "name": "Acme Inc",
        "slug": "acme-inc",
        "image_url": "https://img.clerk.com/placeholder",
        "has_image": False,
        "max_allowed_memberships": 5,
        "admin_delete_enabled": True,
        "public_metadata": {},
        "private_metadata": {},
        "created_by": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _membership(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "organization_membership",
        "id": _id("orgmem_"),
        "role": "org:member",
        "permissions": ["org:sys_memberships:read"],
        "public_metadata": {},
        "private_metadata": {},
        "organization": _organization(now_ms),
        "public_user_data": {
            "user_id": "user_29w83sxmDNGwOuEthce5gg56FcC",
            "identifier": "example@example.org",
            "first_name": "Example",
            "last_name": "User",
            "image_url": "https://img.clerk.com/placeholder",
            "has_image": False,
        },
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _invitation(now_ms: int, event_type: str = "", **_: Any) -> dict[str, Any]:
    status = event_type.rpartition(".")[2] if event_type else "pending"
    data: dict[str, Any] = {
        "object": "organization_invitation",
        "id": _id("orginv_"),
        "email_address": "invitee@example.org",
        "role": "org:member",
        "role_name": "Member",
        "organization_id": "org_29w9IfBrPmcpi0IeBVaKtA7R94W",
        "status": {"created": "pending"}.get(status, status),
        "public_metadata": {},
        "private_metadata": {},
        "url": None,
        "created_at": now_ms,
        "updated_at": now_ms,
        "expires_at": now_ms + 30 * 86_400_000,
    }
    if status == "accepted":
        data["user_id"] = "user_29w83sxmDNGwOuEthce5gg56FcC"
    return data


def _domain(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "organization_domain",
        "id": _id("orgdmn_"),
        "name": "example.org",
        "organization_id": "org_29w9IfBrPmcpi0IeBVaKtA7R94W",
        "enrollment_mode": "automatic_invitation",
        "verification": None,
        "affiliation_email_address": None,
        "total_pending_invitations": 0,
        "total_pending_suggestions": 0,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _session(now_ms: int, event_type: str = "", **_: Any) -> dict[str, Any]:
    status = {"created": "active"}.get(event_type.rpartition(".")[2], event_type.rpartition(".")[2])
    return {
        "object": "session",
        "id": _id("sess_"),
        "client_id": _id("client_"),
        "user_id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "status": status or "active",
        "actor": None,
        "last_active_at": now_ms,
        "expire_at": now_ms + 7 * 86_400_000,
        "abandon_at": now_ms + 30 * 86_400_000,
        "created_at": now_ms,
        "updated_at": now_ms,
        "user": _user(now_ms),
    }


def _permission(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "permission",
        "id": _id("perm_"),
        "key": "org:reports:read",
        "name": "Read reports",
        "description": "Read the organization's reports",
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _role(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "role",
        "id": _id("role_"),
        "key": "org:analyst",
        "name": "Analyst",
        "description": None,
        "permissions": [_permission(now_ms)],
        "is_creator_eligible": False,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _email(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "email",
        "id": _id("ema_"),
        "slug": "verification_code",
        "from_email_name": "notifications",
        "to_email_address": "example@example.org",
        "email_address_id": _id("idn_"),
        "user_id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "subject": "123456 is your verification code",
        "body": "<html>123456</html>",
        "body_plain": "123456",
        "status": "queued",
        "data": {"otp_code": "123456"},
        "delivered_by_clerk": False,
    }


def _sms(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "sms_message",
        "id": _id("sms_"),
        "from_phone_number": "+15555550100",
        "to_phone_number": "+15555550123",
        "phone_number_id": _id("idn_"),
        "user_id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "message": "123456 is your verification code.",
        "status": "queued",
        "slug": "verification_code",
        "data": {"otp_code": "123456"},
        "delivered_by_clerk": False,
    }


def _waitlist(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "waitlist_entry",
        "id": _id("wlst_"),
        "status": "pending",
        "email_address": "waiting@example.org",
        "invitation": None,
        "is_locked": False,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _payer() -> dict[str, Any]:
    return {
        "id": _id("cpayer_"),
        "user_id": "user_29w83sxmDNGwOuEthce5gg56FcC",
        "email": "example@example.org",
        "first_name": "Example",
        "last_name": "User",
    }


def _subscription_item(now_ms: int, event_type: str = "", **_: Any) -> dict[str, Any]:
    status = event_type.rpartition(".")[2] if event_type else "active"
    return {
        "object": "commerce_subscription_item",
        "id": _id("csubi_"),
        "status": {"updated": "active", "created": "active", "pastDue": "past_due"}.get(
            status, status
        ),
        "plan_id": _id("cplan_"),
        "plan": {"id": _id("cplan_"), "slug": "pro", "name": "Pro", "amount": 2000},
        "plan_period": "month",
        "payer": _payer(),
        "period_start": now_ms,
        "period_end": now_ms + 30 * 86_400_000,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _subscription(now_ms: int, event_type: str = "", **_: Any) -> dict[str, Any]:
    status = event_type.rpartition(".")[2] if event_type else "active"
    return {
        "object": "commerce_subscription",
        "id": _id("csub_"),
        "status": {"updated": "active", "created": "active", "pastDue": "past_due"}.get(
            status, status
        ),
        "payer_id": _id("cpayer_"),
        "payer": _payer(),
        "items": [_subscription_item(now_ms)],
        "latest_payment_id": _id("cpay_"),
        "payment_source_id": _id("cps_"),
        "active_at": now_ms,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _payment_attempt(now_ms: int, **_: Any) -> dict[str, Any]:
    return {
        "object": "commerce_payment_attempt",
        "id": _id("cpa_"),
        "payment_id": _id("cpay_"),
        "statement_id": _id("cstmt_"),
        "status": "paid",
        "charge_type": "recurring",
        "payer": _payer(),
        "totals": {"grand_total": {"amount": 2000, "currency": "USD"}},
        "paid_at": now_ms,
        "billing_date": now_ms,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


# Event type (exact, else its prefix before the dot) -> the data factory.
FACTORIES: dict[str, Callable[..., dict[str, Any]]] = {
    "user.deleted": _deleted("user"),
    "organization.deleted": _deleted("organization"),
    "organizationDomain.deleted": _deleted("organization_domain"),
    "user": _user,
    "session": _session,
    "organization": _organization,
    "organizationMembership": _membership,
    "organizationInvitation": _invitation,
    "organizationDomain": _domain,
    "role": _role,
    "permission": _permission,
    "email": _email,
    "sms": _sms,
    "waitlistEntry": _waitlist,
    "subscription": _subscription,
    "subscriptionItem": _subscription_item,
    "paymentAttempt": _payment_attempt,
}


def event_payload(
    event_type: str,
    data: dict[str, Any] | None = None,
    *,
    instance_id: str,
    now: float,
    http_request: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Clerk's event envelope around a Clerk-shaped ``data`` (``data`` keys win)."""
    now_ms = int(now * 1000)
    factory = FACTORIES.get(event_type) or FACTORIES.get(event_type.partition(".")[0])
    base = factory(now_ms, event_type=event_type) if factory is not None else {}
    return {
        "data": {**base, **(data or {})},
        "event_attributes": {
            "http_request": http_request
            or {"client_ip": "192.0.2.1", "user_agent": "Mozilla/5.0 (fake Clerk)"}
        },
        "instance_id": instance_id,
        "object": "event",
        "timestamp": now_ms,
        "type": event_type,
    }


def signed_delivery(
    body: bytes | str,
    *,
    signing_secret: str | list[str],
    msg_id: str | None = None,
    timestamp: int,
) -> WebhookDelivery:
    """Sign ``body`` as Svix does (one ``v1,`` signature per secret, space-separated)."""
    raw = body.encode() if isinstance(body, str) else body
    text = decode_body(raw)
    msg_id = msg_id or "msg_" + secrets.token_urlsafe(20).replace("-", "a").replace("_", "b")
    secrets_list = [signing_secret] if isinstance(signing_secret, str) else signing_secret
    signatures = " ".join(sign(secret, msg_id, timestamp, text) for secret in secrets_list)
    headers = {
        "content-type": "application/json",
        "svix-id": msg_id,
        "svix-timestamp": str(timestamp),
        "svix-signature": signatures,
    }
    return WebhookDelivery(headers, raw)


class WebhookSender:
    """The ``FakeClerk`` part that signs and delivers webhooks (mixed into ``FakeClerk``)."""

    clock: Callable[[], float]
    instance_id: str

    @cached_property
    def webhook_signing_secret(self) -> str:
        """The endpoint's Signing Secret (``whsec_...``): set ``CLERK_WEBHOOK_SIGNING_SECRET``
        to it (the pytest plugin's ``use_fake_clerk`` does) or pass it to ``ClerkWebhook``."""
        return new_signing_secret()

    def webhook_event(self, event_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """The Clerk-shaped payload ``webhook`` signs (unsigned)."""
        return event_payload(event_type, data, instance_id=self.instance_id, now=self.clock())

    def webhook(
        self,
        event_type: str,
        data: dict[str, Any] | None = None,
        *,
        msg_id: str | None = None,
        timestamp: int | None = None,
        signing_secret: str | list[str] | None = None,
        payload: Any = None,
    ) -> WebhookDelivery:
        """A signed delivery of one ``event_type`` event: ``(headers, body)``.

        ``data`` fields replace the factory's Clerk-shaped defaults; ``payload`` replaces the
        whole body (any JSON value); ``msg_id`` is the ``svix-id`` (a retry reuses it);
        ``timestamp`` defaults to the fake's clock; ``signing_secret`` (or several) defaults to
        ``webhook_signing_secret``.
        """
        body = payload if payload is not None else self.webhook_event(event_type, data)
        return signed_delivery(
            json.dumps(body, separators=(",", ":")),
            signing_secret=signing_secret or self.webhook_signing_secret,
            msg_id=msg_id,
            timestamp=int(self.clock()) if timestamp is None else timestamp,
        )

    def deliver(
        self,
        target: Any,
        event_type: str | WebhookDelivery,
        data: dict[str, Any] | None = None,
        *,
        path: str = DEFAULT_PATH,
        **options: Any,
    ) -> Any:
        """POST one delivery to ``target``: an ASGI app (in-process, no lifespan) or a base URL
        (``http://127.0.0.1:8000``). ``event_type`` may be a ``WebhookDelivery`` to send as is
        (a retry); ``options`` go to ``webhook``. Returns the response (``status_code``,
        ``json()``)."""
        delivery = (
            event_type
            if isinstance(event_type, WebhookDelivery)
            else self.webhook(event_type, data, **options)
        )
        if isinstance(target, str):
            url = target.rstrip("/") + path
            return httpx.post(url, headers=delivery.headers, content=delivery.body)
        from starlette.testclient import TestClient

        client = TestClient(target, raise_server_exceptions=False)
        return client.post(path, headers=delivery.headers, content=delivery.body)
