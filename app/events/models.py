"""Events and the campaigns they belong to."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UTCDateTime, utcnow
from app.languages import N_

EVENT_STATUSES = ("draft", "published", "cancelled")
# The webinar platforms an event can run on (app/platforms has a connector for each).
PLATFORM_NAMES = ("zoom", "goto")


class Campaign(Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def offered_languages(main: str, others: list[str] | None) -> tuple[str, ...]:
    """Every language an event offers: its main one first, then the others it lists."""
    return (main, *(code for code in others or () if code != main))


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        CheckConstraint(
            "refund_until_hours_before IS NULL OR refund_until_hours_before >= 0",
            name="refund_window_not_negative",
        ),
        # The last line of defence against overselling: the database refuses it.
        CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="not_oversold"),
        CheckConstraint("platform IS NULL OR platform IN ('zoom', 'goto')", name="platform"),
        CheckConstraint("language IN ('en', 'de', 'fr', 'es')", name="language"),
        CheckConstraint(
            "platform IS NULL OR platform_webinar_id IS NOT NULL", name="platform_has_webinar"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int]
    # Kept with starts_at so "upcoming" and "has ended" are indexed queries.
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # What its public pages, registrants' emails and invites are written in (app/languages).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The languages it offers besides that main one: a visitor's browser picks among them all.
    other_languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    capacity: Mapped[int | None]
    waitlist: Mapped[bool] = mapped_column(default=True)
    price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # A registrant who cancels is refunded until this many hours before the start;
    # None: until the start.
    refund_until_hours_before: Mapped[int | None]
    join_url: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(300))
    # The webinar platform the event runs on (app/platforms), and its webinar there.
    platform: Mapped[str | None] = mapped_column(String(16))
    platform_webinar_id: Mapped[str | None] = mapped_column(String(100))
    # Other sites that may frame this event's form, space-separated (app.embedding), beside
    # the ones EMBED_ORIGINS allows for every event.
    embed_origins: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A new registration stays `unverified` until its verification email's link is opened.
    double_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A new registration is `pending_approval` until staff approve or decline it; while it
    # waits it holds a seat only when `approval_holds_seat` (and one was free).
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    approval_holds_seat: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The landing page says how many seats are left (or that it is full) only when true.
    show_seats_left: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Confirmed, pending-payment, and seat-holding unverified or pending-approval registrations;
    # changed only by conditional updates.
    seats_taken: Mapped[int] = mapped_column(default=0)
    # Minutes before the start at which confirmed registrants get a reminder.
    reminder_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1440, 60])
    attendance_imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the webinar actually ended, as its platform reported it (`mark_ended`); None until
    # then. Speed to lead is measured from it, else from the scheduled `ends_at`.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After the event: where its recording is watched (the on-demand replay), whether
    # attendees and no-shows get a post-event email, and that email's call to action.
    recording_url: Mapped[str | None] = mapped_column(String(500))
    post_event_emails: Mapped[bool] = mapped_column(default=True, server_default=true())
    cta_url: Mapped[str | None] = mapped_column(String(500))
    cta_label: Mapped[str | None] = mapped_column(String(80))
    # The landing page's picture (and its social preview), and who speaks: a list of
    # {"name", "title", "photo_url"}; images are https:// addresses only.
    cover_image_url: Mapped[str | None] = mapped_column(String(1000))
    speakers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign | None] = relationship(lazy="joined")

    def schedule(self, starts_at: datetime, duration_minutes: int) -> None:
        self.starts_at = starts_at
        self.duration_minutes = duration_minutes
        self.ends_at = starts_at + timedelta(minutes=duration_minutes)

    @property
    def over_at(self) -> datetime:
        """When the event was over: its actual end when the platform reported one (a webinar
        that ended early is followed up at once), else its scheduled end."""
        return self.ended_at or self.ends_at

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language it offers, its main one first."""
        return offered_languages(self.language, self.other_languages)

    def language_for(self, wanted: str | None) -> str:
        """`wanted` when the event offers it, else its main language."""
        return wanted if wanted is not None and wanted in self.languages else self.language

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_online(self) -> bool:
        return bool(self.join_url) and not self.location

    @property
    def is_paid(self) -> bool:
        return self.price_cents > 0

    @property
    def refund_deadline(self) -> datetime:
        """Until when a registrant who cancels gets their money back."""
        return self.starts_at - timedelta(hours=self.refund_until_hours_before or 0)

    def closed_reason(self, now: datetime | None = None) -> str | None:
        """Why registration is closed right now, in words for the visitor; None when open."""
        now = now or utcnow()
        if self.status == "cancelled":
            return N_("This event has been cancelled.")
        if self.status != "published":
            return N_("Registration for this event is not open.")
        if self.registration_closes_at and now >= self.registration_closes_at:
            return N_("Registration for this event has closed.")
        if now >= self.ends_at:
            return N_("This event has already taken place.")
        return None
