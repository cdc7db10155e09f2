"""Webhook subscriptions and their deliveries: one row per event and subscription, written in
the transaction that caused the event and sent by the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, utcnow

# The event types a subscription may ask for (CONTRACT.md, "Outgoing webhooks").
EVENT_TYPES = (
    "registration.created",
    "registration.confirmed",
    "registration.waitlisted",
    "registration.cancelled",
    "registration.declined",
    "registration.hot",
    "attendance.applied",
    "followup.assigned",
    "followup.updated",
    "payment.succeeded",
    "payment.refunded",
    "person.erased",
)
# pending: waiting for its next attempt; sending: leased to a worker until `locked_until`.
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class WebhookSubscription(Model):
    """A receiver's URL, the event types it wants, and the secret its deliveries are signed
    with (kept to sign; shown to its creator once).

    `failures` counts the attempts that failed in a row since the receiver last accepted one
    (the streak began at `failing_since`); a receiver that keeps failing is paused
    (`active` false, with `paused_at` and `paused_reason`) and its `owner` is told.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The staff user who added it: the one told when it is paused.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    failures: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)


class WebhookDelivery(Model):
    """One event owed to one subscription.

    `event_key` names the cause ("registration.created:reg:7:…"), so announcing it twice adds
    nothing; `message_id` is the `webhook-id` header, the same on every attempt, so a receiver
    can drop a repeat. The worker leases a row (`sending` until `locked_until`) before it
    posts; a lease that runs out (a killed worker) puts the row back in play.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_key"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")", name="status"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim query: due pending rows and expired leases.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The body as sent: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease: Mapped[str | None] = mapped_column(String(32))
    response_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The request that caused it (app.request_ids), logged when the worker posts it.
    request_id: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
