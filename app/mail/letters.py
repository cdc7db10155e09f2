"""What a message to a registrant says (`letter_for`), and the worker step that writes the
outbox's unwritten rows with it (`write_unwritten`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select, update

from app.db import db, utcnow, writing
from app.events.models import Event
from app.languages import N_, speaking
from app.mail.compose import Letter, compose, write
from app.mail.models import POST_EVENT_KINDS, OutboxMessage
from app.mail.post_event import filled, wording
from app.pages import duration, local_time
from app.registrations.consent import unsubscribe_url
from app.registrations.invites import personal_invite
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.opt_in import verify_url
from app.registrations.replay import watch_url
from app.registrations.services import waitlist_position
from app.sender import Sender, current_sender

# Unwritten rows are composed this many at a time.
CHUNK = 200

# Translated when a letter is written, in its event's language.
SUBJECTS = {
    "confirmation": N_("You're registered: %(title)s"),
    "waitlisted": N_("You're on the waitlist: %(title)s"),
    "promoted": N_("A seat opened up, you're in: %(title)s"),
    "update": N_("Updated: %(title)s"),
    "cancellation": N_("Your registration is cancelled: %(title)s"),
    "event_cancelled": N_("Cancelled: %(title)s"),
    "reminder": N_("Starts in %(lead)s: %(title)s"),
    "payment_due": N_("A seat opened up, complete your payment: %(title)s"),
    "refunded": N_("Your payment was refunded: %(title)s"),
    "manage_link": N_("Your registration link: %(title)s"),
    "verification": N_("Confirm your registration: %(title)s"),
    "erasure_request": N_("Confirm erasing your data"),
    "approval_pending": N_("We'll confirm your registration shortly: %(title)s"),
    "declined": N_("About your registration: %(title)s"),
    "replay": N_("Your link to the recording: %(title)s"),
}
# Messages a registration does not need, which a person may refuse (one-click unsubscribe).
REFUSABLE = ("reminder", *POST_EVENT_KINDS)


def old_schedule(event: Event, context: dict[str, Any]) -> dict[str, str]:
    """An update's old time and length in words, in the zone of `event` and the current
    language, from the values its outbox row keeps."""
    was = datetime.fromisoformat(context["was_starts_at"])
    return {
        "was_when": local_time(was, event.timezone),
        "was_length": duration(int(context["was_duration_minutes"])),
    }


def letter_for(
    kind: str,
    registration: Registration,
    *,
    method: str | None = None,
    sequence: int | None = None,
    who: Sender | None = None,
    **context: Any,
) -> Letter:
    """What a `kind` message to `registration` says, with its invite when `method` is set,
    in the language its registrant registered in."""
    with speaking(registration.language):
        return _letter_for(kind, registration, method=method, sequence=sequence, who=who, **context)


def _letter_for(
    kind: str,
    registration: Registration,
    *,
    method: str | None,
    sequence: int | None,
    who: Sender | None,
    **context: Any,
) -> Letter:
    event = registration.event
    who = who or current_sender()
    link = manage_url(registration)
    calendar = None
    if method is not None and sequence is not None:
        calendar = personal_invite(
            registration,
            method=method,  # type: ignore[arg-type]
            sequence=sequence,
            organizer=who,
            link=link,
        )
    if kind == "waitlisted":
        context.setdefault("position", waitlist_position(registration))
    if kind == "replay":
        context.setdefault("watch_url", watch_url(registration))
    if kind == "verification":
        context.setdefault("verify_url", verify_url(registration))
        context.setdefault("hours", current_app.config["VERIFICATION_HOURS"])
    unsubscribe = unsubscribe_url(registration.lead) if kind in REFUSABLE else None
    template = kind
    if kind in POST_EVENT_KINDS:
        words = context.pop("wording", None) or wording(event, kind)
        subject_line = filled(words.subject, first_name=registration.first_name, event=event)
        context["paragraphs"] = paragraphs(
            filled(words.body, first_name=registration.first_name, event=event)
        )
        template = "post_event"
        if event.recording_url:
            # Through the registrant's tracked link: watching counts as on-demand attendance.
            context["watch_url"] = watch_url(registration)
    else:
        subject_line = gettext(SUBJECTS[kind], title=event.title, lead=context.get("lead", ""))
    subject, text, html = write(
        template,
        subject_line,
        event=event,
        registration=registration,
        manage_url=link,
        when=local_time(event.starts_at, event.timezone),
        when_utc=local_time(event.starts_at, "UTC", "%-d %B %Y, %H:%M"),
        length=duration(event.duration_minutes),
        invite=calendar is not None,
        sender=who,
        unsubscribe_url=unsubscribe,
        **context,
    )
    return Letter(
        subject, text, html, calendar, method if calendar is not None else None, unsubscribe
    )


def paragraphs(text: str) -> list[str]:
    """A plain text's paragraphs (blank-line separated), each with its lines joined."""
    return [
        " ".join(block.split())
        for block in text.replace("\r\n", "\n").split("\n\n")
        if block.strip()
    ]


def write_unwritten(now: datetime | None = None) -> int:
    """Compose the unwritten rows (a worker job); returns how many became ready to send.

    Composing reads only, outside any write lock; each chunk is then saved in one short
    write transaction, and only into rows still unwritten (two workers may race here).
    """
    now = now or utcnow()
    written = 0
    after = 0
    while True:
        rows = db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.registration_id,
                OutboxMessage.message_id,
                OutboxMessage.details,
                OutboxMessage.event_starts_at,
            )
            .where(OutboxMessage.status == "unwritten", OutboxMessage.id > after)
            .order_by(OutboxMessage.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            db.session.commit()
            return written
        after = rows[-1].id
        registrations = {
            r.id: r
            for r in db.session.scalars(
                select(Registration).where(
                    Registration.id.in_([row.registration_id for row in rows])
                )
            )
        }
        who = current_sender()
        updates = []
        for row in rows:
            try:
                registration = registrations[row.registration_id]
                details = row.details or {}
                context = dict(details.get("context") or {})
                if row.kind == "reminder":
                    with speaking(registration.language):
                        context["lead"] = time_left(row.event_starts_at, now)
                if "was_starts_at" in context:
                    # The old time, as the registrant's language writes it.
                    with speaking(registration.language):
                        context.update(old_schedule(registration.event, context))
                letter = letter_for(
                    row.kind,
                    registration,
                    method=details.get("method"),
                    sequence=details.get("sequence"),
                    who=who,
                    **context,
                )
                content = compose(
                    letter,
                    sender=who,
                    to_email=registration.email,
                    to_name=registration.full_name,
                    message_id=row.message_id,
                )
                updates.append(
                    {
                        "id": row.id,
                        "status": "pending",
                        "subject": letter.subject[:300],
                        "content": content,
                        "last_error": None,
                    }
                )
            except Exception as exc:  # a message that cannot be written must not block the rest
                updates.append(
                    {
                        "id": row.id,
                        "status": "failed",
                        "subject": "",
                        "content": None,
                        "last_error": f"could not write: {exc!r}"[:2000],
                    }
                )
        db.session.commit()
        with writing():
            for values in updates:
                db.session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == values.pop("id"), OutboxMessage.status == "unwritten"
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
        written += sum(1 for values in updates if values["status"] == "pending")


def time_left(starts_at: datetime | None, now: datetime) -> str:
    """How long until the start, in words: "24 hours", "1 hour", "15 minutes", "7 days"."""
    if starts_at is None:
        return gettext("a moment")
    minutes = max(round((starts_at - now).total_seconds() / 60), 1)
    if minutes >= 2880:
        return ngettext("%(num)d day", "%(num)d days", round(minutes / 1440))
    if minutes >= 90:
        return ngettext("%(num)d hour", "%(num)d hours", round(minutes / 60))
    if minutes >= 55:
        return ngettext("%(num)d hour", "%(num)d hours", 1)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)
