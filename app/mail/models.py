"""The outbox: every email we owe someone, written in the same transaction as its cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, utcnow

# unwritten: owed, to be composed by the worker; pending: composed, waiting to be sent.
OUTBOX_STATUSES = ("unwritten", "pending", "sending", "sent", "failed", "skipped")
KINDS = (
    "confirmation",
    "waitlisted",
    "promoted",
    "update",
    "cancellation",
    "event_cancelled",
    "reminder",
    "payment_due",
    "refunded",
    "manage_link",
    "verification",
    "erasure_request",
    "approval_pending",
    "declined",
    "replay",
    "post_event_thanks",
    "post_event_missed",
    "post_event_recording",
)
# After the event: to attendees, to confirmed no-shows, and (no attendance having come) to
# every confirmed registrant. Each registration gets at most one of them.
POST_EVENT_KINDS = ("post_event_thanks", "post_event_missed", "post_event_recording")


class OutboxMessage(Model):
    """One email, owed from the moment its cause was committed, sent by the worker.

    `dedupe_key` names the reason for the message ("confirmation:reg:7:…"), so announcing the
    same change twice adds nothing; `message_id` is fixed here, so a resend after a crash is
    recognisably the same message. The worker leases a row (`sending` until `locked_until`)
    before sending it; a lease that runs out puts the row back in play.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('unwritten', 'pending', 'sending', 'sent', 'failed', 'skipped')",
            name="status",
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim query: due pending rows and expired leases.
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # For a reminder: the start it announces; a moved or started event makes it moot.
    event_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The whole RFC 5322 message except its Date header, which is added when it is sent;
    # None while unwritten, when `details` says what to write (method, SEQUENCE, context).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The request that queued it (app.request_ids), logged when the worker sends it.
    request_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PostEventTemplate(Model):
    """An event's own wording of one post-event email; without one, the default wording
    (`app.mail.post_event.DEFAULTS`) is used."""

    __tablename__ = "post_event_templates"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('post_event_thanks', 'post_event_missed', 'post_event_recording')",
            name="kind",
        ),
        UniqueConstraint("event_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
