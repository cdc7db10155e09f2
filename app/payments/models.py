"""Payments for seats at paid events, and the Stripe webhook events already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UTCDateTime, utcnow
from app.registrations.models import Registration

# open: the Checkout Session is waiting for the buyer; processing: completed, money on its
# way (a delayed payment method); paid; failed: the delayed payment failed; expired: the
# session ran out; abandoned: we gave the hold up (the registrant cancelled before paying).
PAYMENT_STATUSES = ("open", "processing", "paid", "failed", "expired", "abandoned")
# none: nothing owed back; due: the worker will ask Stripe; pending: Stripe is working on it;
# succeeded; failed: Stripe refused it (staff can see why in the console); declined: the
# registrant cancelled after the event's refund window closed.
REFUND_STATUSES = ("none", "due", "pending", "succeeded", "failed", "declined")
REFUND_REASONS = ("registrant", "staff", "event_cancelled", "late_payment", "dashboard")


class Payment(Model):
    """One Checkout Session opened for one payment hold of a registration.

    `attempt_key` is the idempotency key the session was created with: a registration holds
    at most one session per hold, however often the buyer clicks.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'processing', 'paid', 'failed', 'expired', 'abandoned')",
            name="status",
        ),
        CheckConstraint(
            "refund_status IN ('none', 'due', 'pending', 'succeeded', 'failed', 'declined')",
            name="refund_status",
        ),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_within_amount"
        ),
        # The worker's refund query and reconciliation's query of stale holds.
        Index("ix_payments_refund_status_next", "refund_status", "refund_next_attempt_at"),
        Index("ix_payments_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    attempt_key: Mapped[str] = mapped_column(String(120), unique=True)
    checkout_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(2000))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="open")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_status: Mapped[str] = mapped_column(String(16), default="none")
    refund_reason: Mapped[str | None] = mapped_column(String(20))
    refunded_cents: Mapped[int] = mapped_column(default=0)
    refund_id: Mapped[str | None] = mapped_column(String(255), index=True)
    refund_attempts: Mapped[int] = mapped_column(default=0)
    # Raised when staff retry a refund Stripe turned down: a new idempotency key, since
    # Stripe answers a reused one with the first (failed) refund.
    refund_round: Mapped[int] = mapped_column(default=0)
    refund_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_error: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration] = relationship()

    @property
    def fully_refunded(self) -> bool:
        return self.refunded_cents >= self.amount_cents


class StripeEvent(Model):
    """A webhook event already handled: the primary key makes a replay change nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
