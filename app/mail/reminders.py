"""Reminders before an event starts (24 hours and 1 hour by default, `Event.reminder_minutes`).

A periodic scan queues the reminders that are due; the dedupe key (registration, lead time,
start) makes a second scan add nothing. Only confirmed registrants who registered before the
reminder's time get one, and only the latest due reminder is sent when the scan was late
(no "starts in 24 hours" an hour before the start). The worker checks again when sending.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import db, utcnow, writing
from app.events.models import Event
from app.mail.outbox import queue_for_registrants, stamp, still_owed
from app.mail.post_event import not_unsubscribed
from app.registrations.models import Registration


def reminder_key(registration_id: int, minutes: int, starts_at: datetime) -> str:
    return f"reminder:reg:{registration_id}:{minutes}:{stamp(starts_at)}"


def due_windows(
    starts_at: datetime, reminder_minutes: list[int] | None, now: datetime
) -> Iterator[tuple[int, datetime]]:
    """The reminders whose time has come and that no later reminder has overtaken yet, as
    (minutes before the start, the moment the reminder is due)."""
    lead_times = sorted({m for m in reminder_minutes or [] if m > 0}, reverse=True)
    for index, minutes in enumerate(lead_times):
        due_at = starts_at - timedelta(minutes=minutes)
        following = lead_times[index + 1] if index + 1 < len(lead_times) else 0
        overtaken_at = starts_at - timedelta(minutes=following)
        if due_at <= now < overtaken_at:
            yield minutes, due_at


def queue_due_reminders(now: datetime | None = None) -> int:
    """Queue every reminder due at `now`; returns how many were added (the worker writes
    them, with the time actually left, just before sending)."""
    now = now or utcnow()
    upcoming = db.session.execute(
        select(Event.id, Event.starts_at, Event.reminder_minutes).where(
            Event.status == "published", Event.starts_at > now
        )
    ).all()
    db.session.commit()
    added = 0
    for row in upcoming:
        for minutes, due_at in due_windows(row.starts_at, row.reminder_minutes, now):
            key = ("reminder:reg:", f":{minutes}:{stamp(row.starts_at)}")
            # Looked up first without the write lock: most passes find everyone reminded.
            # A registrant who unsubscribed gets no reminders (they carry the same link).
            conditions = [*still_owed(row.id, key, ("confirmed",), due_at), not_unsubscribed()]
            owed = db.session.scalar(select(Registration.id).where(*conditions).limit(1))
            db.session.commit()
            if owed is None:
                continue
            with writing():
                event = db.session.get(Event, row.id)
                if event is None or event.status != "published" or event.starts_at != row.starts_at:
                    continue  # changed since the scan began; the next scan sees it as it is
                added += queue_for_registrants(
                    event,
                    "reminder",
                    key=key,
                    statuses=("confirmed",),
                    registered_by=due_at,
                    event_starts_at=event.starts_at,
                    where=[not_unsubscribed()],
                )
    return added
