"""What an event's landing page may honestly say right now: the banner of a past or cancelled
event, whether it still offers a form (to reserve, to join the waitlist, or to watch the
recording), whether it shows seats, and the next event of its campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from flask_babel import gettext
from sqlalchemy import select

from app.db import db, utcnow
from app.events.models import Event
from app.languages import DEFAULT, N_, current_language

# Headings and buttons are translated where the page shows them; banners when they are made.
RESERVE = N_("Reserve your spot")
JOIN_WAITLIST = N_("Join the waitlist")
WATCH = N_("Watch the recording")
CANCELLED = N_("This event was cancelled.")


@dataclass(frozen=True)
class PageNotice:
    """The rule the landing page reads; `heading` None means the page shows no form."""

    banner: str | None
    heading: str | None
    show_seats: bool
    # The on-demand replay: past, not cancelled, and its recording is known.
    replay: bool
    # For a past or cancelled event: the soonest upcoming public event of the same campaign.
    next_event: Event | None

    @property
    def button(self) -> str:
        return {JOIN_WAITLIST: N_("Join the waitlist"), WATCH: N_("Watch the recording")}.get(
            self.heading or "", N_("Reserve my spot")
        )


def is_past(event: Event, now: datetime | None = None) -> bool:
    """Over: after the actual end its platform reported, else after the scheduled one."""
    return (now or utcnow()) >= event.over_at


def offers_replay(event: Event, now: datetime | None = None) -> bool:
    """The page of this event is its on-demand replay."""
    return event.status == "published" and bool(event.recording_url) and is_past(event, now)


def took_place(event: Event) -> str:
    """ "This webinar took place on Tuesday 1 July 2030.", the date in the event's zone."""
    language = current_language()
    if language == DEFAULT:
        day = event.local_start.strftime("%A %-d %B %Y")
    else:
        day = format_date(event.local_start, "full", locale=language)
    if event.location:
        return gettext("This event took place on %(day)s.", day=day)
    return gettext("This webinar took place on %(day)s.", day=day)


def page_notice(event: Event, now: datetime | None = None) -> PageNotice:
    now = now or utcnow()
    if event.status == "cancelled":
        return PageNotice(gettext(CANCELLED), None, False, False, next_in_campaign(event, now))
    if is_past(event, now):
        if offers_replay(event, now):
            return PageNotice(took_place(event), WATCH, False, True, None)
        return PageNotice(took_place(event), None, False, False, next_in_campaign(event, now))
    full = event.seats_left == 0
    return PageNotice(
        banner=None,
        heading=JOIN_WAITLIST if full and event.waitlist else RESERVE,
        show_seats=event.show_seats_left and event.seats_left is not None,
        replay=False,
        next_event=None,
    )


def next_in_campaign(event: Event, now: datetime | None = None) -> Event | None:
    """The soonest published event of `event`'s campaign that has not ended; None without a
    campaign."""
    if event.campaign_id is None:
        return None
    return db.session.scalar(
        select(Event)
        .where(
            Event.campaign_id == event.campaign_id,
            Event.id != event.id,
            Event.status == "published",
            Event.ends_at > (now or utcnow()),
        )
        .order_by(Event.starts_at)
        .limit(1)
    )
