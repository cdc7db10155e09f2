"""The control for the load tests: the real app with seats taken the naive, racy way.

`gunicorn tests.racy_app:app` serves the same pages, forms and services as `wsgi:app`, except
that a registration counts the confirmed rows in one transaction, commits, waits a moment and
only then inserts in another. Concurrent requests all count the same free seats, so this app
oversells; the load test must catch it, or the load test proves nothing about the real app.

It never touches `events.seats_taken`, so the database's `seats_taken <= capacity` check,
which would stop a naive version that did, cannot hide the race.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.events.models import Event
from app.registrations import services
from app.registrations.models import SEAT_HOLDING, Registration

# Between the count and the insert: long enough that every request the server is handling
# counts before any of them inserts, on SQLite and on PostgreSQL.
RACE_WINDOW_SECONDS = 0.25

_real_register = services.register
_decided = threading.local()


def _register_after_counting(
    event_id: int, person: services.Registrant, now: datetime | None = None, **options: Any
) -> services.Outcome:
    event = db.session.get(Event, event_id)
    if event is None:
        raise services.RegistrationRefused("This event does not exist.")
    taken = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event_id, Registration.status.in_(SEAT_HOLDING))
    )
    free = event.capacity is None or (taken or 0) < event.capacity
    _decided.status = "confirmed" if free else "waitlisted" if event.waitlist else None
    # The count's transaction ends here; the insert happens in a new one, on stale knowledge.
    db.session.commit()
    time.sleep(RACE_WINDOW_SECONDS)
    return _real_register(event_id, person, now, **options)


def _status_from_the_earlier_count(event: Event, *, comped: bool = False) -> str:
    status: str | None = _decided.status
    if status is None:
        raise services.RegistrationRefused("This event is full.", full=True)
    return status


services.register = _register_after_counting
services._take_seat_or_waitlist = _status_from_the_earlier_count

app = create_app()
