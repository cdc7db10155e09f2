"""After the event: a thank-you to attendees, a "sorry we missed you" to confirmed no-shows,
each with the recording link and the event's call to action, in each event's own words.

When (a worker job, `queue_post_event_emails`):
- `POST_EVENT_DELAY_MINUTES` after attendance was last applied (a corrected report within the
  delay moves the moment; nobody has been told anything yet): attendees get `post_event_thanks`,
  confirmed registrants the report shows absent `post_event_missed`.
- No attendance `POST_EVENT_FALLBACK_HOURS` after the end: we cannot tell who was there, so
  nobody is told they were missed. Those checked in at the door get the thank-you; every other
  confirmed registrant gets the neutral `post_event_recording` ("thanks for registering, here
  is the recording"), and only once the event has a recording or a call to action to give.
- Never for an event that ended more than `MAX_AGE` ago (turning the feature on does not mail
  last year's registrants), nor for a cancelled event or one with `post_event_emails` off.

Each registration gets at most one of the three, ever: they share one outbox dedupe key
(`post_event:reg:<id>`), so applying attendance twice, two workers, or a worker that dies
mid-batch add nothing. A lead who unsubscribed (`Lead.unsubscribed_at`: the one-click link, a
consent withdrawal) is skipped when queueing and again when sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import ColumnElement, exists, func, or_, select, true

from app import fields
from app.db import db, utcnow, writing
from app.events.models import Event
from app.languages import N_
from app.mail.models import POST_EVENT_KINDS, PostEventTemplate
from app.mail.outbox import queue_for_registrants, still_owed
from app.refusals import Refusal
from app.registrations.models import Lead, Registration

# The post-event emails of an event that ended longer ago than this are never sent.
MAX_AGE = timedelta(days=7)
KEY = ("post_event:reg:", "")
SUBJECT_LENGTH = 300
BODY_LENGTH = 20_000
# The words a template may hold, replaced for each registrant.
PLACEHOLDERS = ("{first_name}", "{event}")
NAMES = {
    "post_event_thanks": "Thank-you to attendees",
    "post_event_missed": "Sorry we missed you (confirmed no-shows)",
    "post_event_recording": "Here is the recording (no attendance came)",
}


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str


DEFAULTS = {
    "post_event_thanks": Wording(
        N_("Thank you for joining {event}"),
        N_(
            "Hi {first_name},\n\nthank you for joining {event}. We hope it was worth your time.\n\n"
            "If you would like to see a part again, or share it with a colleague, the recording "
            "is below."
        ),
    ),
    "post_event_missed": Wording(
        N_("Sorry we missed you at {event}"),
        N_(
            "Hi {first_name},\n\nwe are sorry you could not make it to {event}. Nothing is lost: "
            "watch the recording whenever it suits you."
        ),
    ),
    "post_event_recording": Wording(
        N_("The recording of {event}"),
        N_(
            "Hi {first_name},\n\nthank you for registering for {event}. Here is the recording, "
            "to watch (or watch again) whenever it suits you."
        ),
    ),
}


class TemplateRejected(Refusal):
    default_message = "The post-event emails were not saved."


def wording(event: Event, kind: str) -> Wording:
    """The event's own wording of a post-event email, else the default."""
    own = db.session.scalar(
        select(PostEventTemplate).where(
            PostEventTemplate.event_id == event.id, PostEventTemplate.kind == kind
        )
    )
    if own is not None:
        return Wording(own.subject, own.body)
    # The default speaks the language the letter is written in (the console's: English).
    default = DEFAULTS[kind]
    return Wording(gettext(default.subject), gettext(default.body))


def filled(text: str, *, first_name: str, event: Event) -> str:
    """The template's text for one registrant (plain words: no format strings, no markup)."""
    return text.replace("{first_name}", first_name or gettext("there")).replace(
        "{event}", event.title
    )


def save_wording(event: Event, values: dict[str, Wording]) -> None:
    """Keep the event's wording of each kind given; a kind set back to the default wording
    forgets its own copy (so a better default reaches it later). Commits."""
    problems: dict[str, str] = {}
    for kind, given in values.items():
        if kind not in POST_EVENT_KINDS:
            problems[kind] = "Not a post-event email."
            continue
        if not given.subject.strip():
            problems[f"{kind}_subject"] = "Give the email a subject."
        elif fields.CONTROL_IN_LINE.search(given.subject):
            problems[f"{kind}_subject"] = "Keep the subject to one line of plain text."
        elif problem := fields.length_problem(given.subject, SUBJECT_LENGTH):
            problems[f"{kind}_subject"] = problem
        if not given.body.strip():
            problems[f"{kind}_body"] = "Write the email's text."
        elif fields.CONTROL_IN_TEXT.search(given.body):
            problems[f"{kind}_body"] = "The text holds a control character that cannot be sent."
        elif problem := fields.length_problem(given.body, BODY_LENGTH):
            problems[f"{kind}_body"] = problem
    if problems:
        raise TemplateRejected(fields=problems)
    with writing():
        for kind, given in values.items():
            own = db.session.scalar(
                select(PostEventTemplate).where(
                    PostEventTemplate.event_id == event.id, PostEventTemplate.kind == kind
                )
            )
            text = Wording(" ".join(given.subject.split()), given.body.replace("\r\n", "\n"))
            if text == DEFAULTS[kind]:
                if own is not None:
                    db.session.delete(own)
            elif own is None:
                db.session.add(
                    PostEventTemplate(
                        event_id=event.id, kind=kind, subject=text.subject, body=text.body
                    )
                )
            else:
                own.subject, own.body = text.subject, text.body


def not_unsubscribed() -> ColumnElement[bool]:
    """The registration's lead has not asked for no more non-transactional email."""
    return ~exists().where(
        Lead.id == Registration.__table__.c.lead_id, Lead.unsubscribed_at.is_not(None)
    )


def _over_at() -> ColumnElement[datetime]:
    return func.coalesce(Event.ended_at, Event.ends_at)


def queue_post_event_emails(now: datetime | None = None, *, only: int | None = None) -> int:
    """Queue the post-event emails due at `now` (a worker job); returns how many were added.

    With `only`, just that event's (the demo seed queues its own webinar's, nobody else's).
    """
    now = now or utcnow()
    config = current_app.config
    delay = timedelta(minutes=int(config["POST_EVENT_DELAY_MINUTES"]))
    fallback = timedelta(hours=int(config["POST_EVENT_FALLBACK_HOURS"]))
    ended = db.session.scalars(
        select(Event.id).where(
            Event.id == only if only is not None else true(),
            Event.status == "published",
            Event.post_event_emails.is_(True),
            _over_at() <= now,
            _over_at() > now - MAX_AGE,
            or_(
                Event.attendance_imported_at <= now - delay,
                Event.attendance_imported_at.is_(None) & (_over_at() <= now - fallback),
            ),
        )
    ).all()
    db.session.commit()
    added = 0
    for event_id in ended:
        for kind, condition in _groups(event_id):
            # Looked up first without the write lock: most passes find everyone told.
            owed = still_owed(event_id, KEY, ("confirmed",), None) + [
                condition,
                not_unsubscribed(),
            ]
            found = db.session.scalar(select(Registration.id).where(*owed).limit(1))
            db.session.commit()
            if found is None:
                continue
            with writing():
                event = db.session.get(Event, event_id)
                if event is None or not _still_due(event, kind, now, delay, fallback):
                    continue  # changed since the scan began; the next pass sees it as it is
                added += queue_for_registrants(
                    event,
                    kind,
                    key=KEY,
                    statuses=("confirmed",),
                    where=[condition, not_unsubscribed()],
                )
    return added


def _groups(event_id: int) -> list[tuple[str, ColumnElement[bool]]]:
    """Who gets which kind, attendees first: with attendance applied, a no-show has 0 minutes
    (a registration the report did not cover has none and is left alone)."""
    registration = Registration.__table__.c
    imported = (
        select(Event.attendance_imported_at)
        .where(Event.id == event_id)
        .scalar_subquery()
        .is_not(None)
    )
    # NULL minutes (not known) must read as "not attended", not as an unknown truth value.
    attended = or_(
        registration.checked_in_at.is_not(None),
        func.coalesce(registration.attended_minutes, 0) > 0,
    )
    absent = registration.checked_in_at.is_(None) & (registration.attended_minutes == 0) & imported
    unknown = ~attended & ~imported
    return [
        ("post_event_thanks", attended),
        ("post_event_missed", absent),
        ("post_event_recording", unknown),
    ]


def _still_due(
    event: Event, kind: str, now: datetime, delay: timedelta, fallback: timedelta
) -> bool:
    if event.status != "published" or not event.post_event_emails:
        return False
    if not (now - MAX_AGE < event.over_at <= now):
        return False
    if event.attendance_imported_at is not None:
        return event.attendance_imported_at <= now - delay
    if event.over_at > now - fallback:
        return False
    # Without attendance, "thanks for registering" is worth sending only with something in it.
    return kind != "post_event_recording" or bool(event.recording_url or event.cta_url)
