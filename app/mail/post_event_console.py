"""A post-event email as the console shows it before it goes out: the preview of some wording
(saved or not) and "send me a test", which mails it to the staff member asking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select

from app.db import db, writing
from app.events.models import Event
from app.mail.compose import Letter, write
from app.mail.letters import paragraphs
from app.mail.models import POST_EVENT_KINDS, OutboxMessage
from app.mail.outbox import queue_letter
from app.mail.post_event import Wording, filled
from app.pages import duration, local_time
from app.sender import current_sender

# A test's unsubscribe link names no one: the page it opens says the link is not valid.
TEST_UNSUBSCRIBE = "/u/test"


@dataclass(frozen=True)
class Sent:
    """How many of an event's post-event emails are where, by outbox status."""

    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def sample_letter(
    event: Event, kind: str, words: Wording, *, first_name: str, email: str
) -> Letter:
    """The letter `words` make for a registrant called `first_name` (nothing is stored)."""
    who = current_sender()
    registration = SimpleNamespace(email=email, first_name=first_name)
    base = current_app.config["BASE_URL"]
    unsubscribe = f"{base}{TEST_UNSUBSCRIBE}"
    subject, text, html = write(
        "post_event",
        filled(words.subject, first_name=first_name, event=event),
        event=event,
        registration=registration,
        manage_url=base,
        when=local_time(event.starts_at, event.timezone),
        when_utc=local_time(event.starts_at, "UTC", "%-d %B %Y, %H:%M"),
        length=duration(event.duration_minutes),
        invite=False,
        sender=who,
        unsubscribe_url=unsubscribe,
        paragraphs=paragraphs(filled(words.body, first_name=first_name, event=event)),
    )
    return Letter(subject, text, html, unsubscribe=unsubscribe)


def send_test(event: Event, kind: str, words: Wording, *, to_email: str, to_name: str) -> None:
    """Mail the staff member the letter `words` make, subject marked as a test; the worker
    sends it with the rest of the outbox."""
    first_name = (to_name.split() or ["there"])[0]
    letter = sample_letter(event, kind, words, first_name=first_name, email=to_email)
    marked = Letter(f"[Test] {letter.subject}", letter.text, letter.html)
    with writing():
        queue_letter(
            "post_event_test",
            f"post_event_test:{event.id}:{kind}:{uuid.uuid4().hex}",
            marked,
            to_email=to_email,
            to_name=to_name,
            event_id=event.id,
        )


def sent_so_far(event: Event) -> Sent:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.event_id == event.id, OutboxMessage.kind.in_(POST_EVENT_KINDS))
        .group_by(OutboxMessage.status)
    ).all()
    return Sent({status: count for status, count in rows})
