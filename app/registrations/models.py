"""Registrations (a seat, a waitlist place or a payment hold) and the leads they create."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UTCDateTime, utcnow
from app.events.models import Campaign, Event


def new_invite_uid() -> str:
    # Random, so two installations never give two different events the same calendar UID.
    return f"{uuid.uuid4()}@reserve-invite"


REGISTRATION_STATUSES = (
    "confirmed",
    "waitlisted",
    "pending_payment",
    "unverified",
    "cancelled",
    "walk_in",
    "pending_approval",
    "declined",
    "on_demand",
)
# An unverified registration holds a seat only when `verified_status` is "confirmed", one
# pending approval only when `approval_seat`.
SEAT_HOLDING = ("confirmed", "pending_payment")
# Someone the attendance report places in the room who never registered: they hold no seat
# and were sent nothing, but they were there, so they are followed up like attendees.
WALK_IN = "walk_in"
# Someone who registered through a past event's replay form, to watch its recording: they
# hold no seat and were never invited; their watching is their attendance (`on_demand_at`).
ON_DEMAND = "on_demand"
# What opening the verification link turns an unverified registration into.
VERIFIED_STATUSES = ("confirmed", "waitlisted")


def counts_as_attended(checked_in: bool, attended_minutes: float | None) -> bool:
    """The one rule for "attended": checked in at the door, or some minutes in the webinar.

    `Registration.attended` applies it to a registration and, in SQL, to a query; scoring
    applies it to the values routing reads without loading registrations.
    """
    return checked_in or (attended_minutes or 0) > 0


class Lead(Model):
    """One person, keyed by normalized email, across every event they registered for."""

    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'open', 'contacted', 'qualified', 'disqualified', 'converted')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalized: lower case
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    score: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    first_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    first_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    first_utm_source: Mapped[str | None] = mapped_column(String(200))
    first_utm_medium: Mapped[str | None] = mapped_column(String(200))
    first_utm_campaign: Mapped[str | None] = mapped_column(String(200))
    first_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latest_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL")
    )
    latest_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    latest_utm_source: Mapped[str | None] = mapped_column(String(200))
    latest_utm_medium: Mapped[str | None] = mapped_column(String(200))
    latest_utm_campaign: Mapped[str | None] = mapped_column(String(200))
    latest_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consent_marketing: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str | None] = mapped_column(String(1000))
    # When the person asked for no more email beyond what a registration needs (one-click
    # unsubscribe, a consent withdrawal): no post-event emails, no reminders, no marketing.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    first_event: Mapped[Event | None] = relationship(foreign_keys=[first_event_id])
    latest_event: Mapped[Event | None] = relationship(foreign_keys=[latest_event_id])
    first_campaign: Mapped[Campaign | None] = relationship(foreign_keys=[first_campaign_id])
    latest_campaign: Mapped[Campaign | None] = relationship(foreign_keys=[latest_campaign_id])
    registrations: Mapped[list[Registration]] = relationship(back_populates="lead")


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email_normalized", name="uq_registrations_event_email"),
        CheckConstraint("invite_sequence >= 0", name="invite_sequence_not_negative"),
        CheckConstraint(
            "attended_minutes IS NULL OR attended_minutes >= 0", name="attended_not_negative"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in REGISTRATION_STATUSES) + ")",
            name="status",
        ),
        # Only a registration waiting for staff's decision holds a seat on its behalf.
        CheckConstraint(
            "NOT approval_seat OR status = 'pending_approval'", name="approval_seat_pending"
        ),
        CheckConstraint(
            "verified_status IS NULL OR verified_status IN ('confirmed', 'waitlisted')",
            name="verified_status",
        ),
        # Double opt-in: an unverified registration always knows its deadline and its outcome.
        CheckConstraint(
            "status <> 'unverified' OR (verify_by IS NOT NULL AND verified_status IS NOT NULL)",
            name="unverified_has_deadline",
        ),
        CheckConstraint("language IN ('en', 'de', 'fr', 'es')", name="language"),
        Index("ix_registrations_event_status_created", "event_id", "status", "created_at"),
        # The expiry job's scan: unverified registrations by deadline.
        Index("ix_registrations_status_verify_by", "status", "verify_by"),
        # The console's default page, newest first across every status, read in index order.
        Index("ix_registrations_event_created_id", "event_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="RESTRICT"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # as the registrant typed it
    email_normalized: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The language the registrant registered in (one its event offers): their emails, invites
    # and manage pages speak it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    gclid: Mapped[str | None] = mapped_column(String(200))
    fbclid: Mapped[str | None] = mapped_column(String(200))
    referrer: Mapped[str | None] = mapped_column(String(500))
    # The named source link the visitor came through (app/registrations/source_links.py).
    source_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_links.id", ondelete="SET NULL"), index=True
    )
    consent_marketing: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A pending_payment seat is held until then; reconciliation releases it afterwards.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Double opt-in: an unverified registration is cancelled when `verify_by` passes; opening
    # its verification link first makes it `verified_status` ("confirmed": its seat was held
    # meanwhile; "waitlisted": the event was full, no seat is held).
    verify_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_status: Mapped[str | None] = mapped_column(String(16))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Approval: a pending_approval registration holds a seat while staff decide when this is
    # true (its event's `approval_holds_seat`, and a seat was free); it is counted in
    # `seats_taken` until it is approved into it, declined or cancelled.
    approval_seat: Mapped[bool] = mapped_column(default=False, server_default=false())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The calendar invite: one UID for the registration's whole life, SEQUENCE raised on change.
    invite_uid: Mapped[str] = mapped_column(String(80), unique=True, default=new_invite_uid)
    invite_sequence: Mapped[int] = mapped_column(default=0)
    # Attendance: None until known; 0 minutes is a no-show.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_minutes: Mapped[float | None]
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    questions_asked: Mapped[int] = mapped_column(default=0)
    # On-demand attendance: when the registrant first opened the recording through their
    # tracked link, and how many times. The player reports no minutes (see app.followup
    # .scoring.ON_DEMAND_SHARE), so none are credited; a live attendance import leaves these be.
    on_demand_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_demand_views: Mapped[int] = mapped_column(default=0, server_default="0")
    # The registrant's own link from the webinar platform (app/platforms); None: the event's.
    join_url: Mapped[str | None] = mapped_column(String(1000))

    event: Mapped[Event] = relationship()
    lead: Mapped[Lead] = relationship(back_populates="registrations")
    source_link: Mapped[SourceLink | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @hybrid_property
    def attended(self) -> bool:
        """Whether this registrant was there (`counts_as_attended`); a condition in a query."""
        return counts_as_attended(self.checked_in_at is not None, self.attended_minutes)

    @attended.inplace.expression
    @classmethod
    def _attended_condition(cls) -> ColumnElement[bool]:
        return or_(cls.checked_in_at.is_not(None), cls.attended_minutes > 0)

    @property
    def watched_on_demand(self) -> bool:
        return self.on_demand_at is not None

    @property
    def is_walk_in(self) -> bool:
        return self.status == WALK_IN

    @property
    def join_link(self) -> str | None:
        """The link this registrant joins by: their own from the platform, else the event's."""
        return self.join_url or self.event.join_url

    @property
    def holds_seat(self) -> bool:
        """Whether this registration counts in its event's `seats_taken`."""
        if self.status == "unverified":
            return self.verified_status == "confirmed"
        if self.status == "pending_approval":
            return self.approval_seat
        return self.status in SEAT_HOLDING


CONSENT_SOURCES = ("form", "api", "import", "link", "manage", "console")


class ConsentRecord(Model):
    """One consent to marketing email, or its withdrawal, as proof: when, through which door,
    and the exact words the person saw. The lead's `consent_marketing` is the latest of these."""

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint("action IN ('given', 'withdrawn')", name="action"),
        CheckConstraint(
            "source IN (" + ", ".join(f"'{source}'" for source in CONSENT_SOURCES) + ")",
            name="source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(1000))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


QUESTION_TYPES = (
    "text",
    "textarea",
    "select",
    "multiselect",
    "checkbox",
    "number",
    "country",
    "hidden",
)
# Routing facts a question's answer can stand for (see `app.followup.rules.segment_of`).
ROUTING_FACTS = ("segment", "company_size")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Question(Model):
    """One of an event's own registration questions; its answer is kept under `key` in each
    registration's `answers`, so changing or removing a question never loses an answer."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("event_id", "key", name="uq_questions_event_key"),
        CheckConstraint(_in("type", QUESTION_TYPES), name="type"),
        CheckConstraint("maps_to IS NULL OR " + _in("maps_to", ROUTING_FACTS), name="maps_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    help: Mapped[str] = mapped_column(String(500), default="")
    type: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    # {"key": K, "equals": V}: asked only when question K's answer is V (or includes it).
    show_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    maps_to: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceLink(Model):
    """A named tracking link of one event ("LinkedIn ad"): `/e/<slug>?src=<code>` opens the
    landing page with its utm parameters; only a visit count is kept, nothing about visitors."""

    __tablename__ = "source_links"
    __table_args__ = (UniqueConstraint("event_id", "code", name="uq_source_links_event_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(40))
    utm_source: Mapped[str] = mapped_column(String(200))
    utm_medium: Mapped[str] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    visits: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded from the session's identity map when the event is already read (a list of one
    # event's links costs no query per link).
    event: Mapped[Event] = relationship()
