"""What the worker keeps about the platforms: each registration's sync state, each event's
attendance pull, and each webhook delivery received (stored once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, utcnow

# pending: a call is owed (add or cancel, as `want` says); sending: leased to a worker until
# `locked_until`; synced: the platform has the registrant; cancelled: it has them no longer
# (or never had); failed: the platform refused, `last_error` says why.
SYNC_STATUSES = ("pending", "sending", "synced", "cancelled", "failed")
# What the platform should hold for the registration.
SYNC_WANTS = ("registered", "cancelled")
# pending: a pull is due at `next_attempt_at`; sending: leased; done: applied; failed: gave up.
PULL_STATUSES = ("pending", "sending", "done", "failed")
# Why a pull was asked for: the webinar ended, staff asked, or its scheduled end passed.
PULL_REASONS = ("ended", "requested", "schedule")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class RegistrantSync(Model):
    """One registration of a platform event, and where its registrant stands on the platform."""

    __tablename__ = "platform_registrants"
    __table_args__ = (
        CheckConstraint(_in("status", SYNC_STATUSES), name="status"),
        CheckConstraint(_in("want", SYNC_WANTS), name="want"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim query: due pending rows and expired leases.
        Index("ix_platform_registrants_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    webinar_id: Mapped[str] = mapped_column(String(100))
    want: Mapped[str] = mapped_column(String(16), default="registered")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    registrant_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease: Mapped[str | None] = mapped_column(String(32))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttendancePull(Model):
    """An event's attendance, owed from its platform: due after the webinar ends (or staff
    ask, or its scheduled end passed), then fetched, applied and routed by the worker."""

    __tablename__ = "platform_attendance_pulls"
    __table_args__ = (
        CheckConstraint(_in("status", PULL_STATUSES), name="status"),
        CheckConstraint(_in("reason", PULL_REASONS), name="reason"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_platform_attendance_pulls_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # When the platform said the webinar ended (webinar.ended's end_time): speed to lead
    # is measured from it.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease: Mapped[str | None] = mapped_column(String(32))
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookReceipt(Model):
    """One verified delivery from a platform, kept once: `delivery_key` names it (a replay of
    the same body has the same key and is dropped)."""

    __tablename__ = "platform_webhook_receipts"
    __table_args__ = (UniqueConstraint("platform", "delivery_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_key: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
