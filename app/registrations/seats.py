"""The seat count and who sits in it: seats taken and given back, the waitlist's turn, holds.

Each function runs inside a write transaction its caller holds (`app.db.writing`), so the
count on the event row and the registrations' statuses commit together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, select, update

from app.db import db, utcnow
from app.events.models import Event
from app.registrations import signals
from app.registrations.models import WALK_IN, Registration

# Who may give a seat up; "verification": an unverified registration whose link was not
# opened in time.
CANCELLED_BY = ("registrant", "staff", "payment", "verification")


_events = Event.__table__.c
# Core statements built once (every registration runs one): no ORM bookkeeping, no cache key
# computed per call. The event object in the session is not told; it is re-read when needed.
_TAKE_SEAT = (
    update(Event.__table__)
    .where(
        _events.id == bindparam("seat_event"),
        _events.capacity.is_(None) | (_events.seats_taken < _events.capacity),
    )
    .values(seats_taken=_events.seats_taken + 1)
)
_LOCK_EVENT = (
    select(_events.id).where(_events.id == bindparam("seat_event")).with_for_update(key_share=True)
)


def take_seat(event_id: int) -> bool:
    """Take one seat if one is free; True when it was taken.

    On PostgreSQL the UPDATE locks the event row, and a waiting UPDATE re-checks the condition
    after the holder commits; on SQLite the write transaction already holds the database lock.
    """
    taken = db.session.connection().execute(_TAKE_SEAT, {"seat_event": event_id})
    return taken.rowcount == 1


def lock_event(event_id: int) -> None:
    """Hold the event row until the commit without taking a seat (PostgreSQL; on SQLite the
    write transaction already holds the database lock), so that seat changes wait for us.

    The lock is the seat UPDATE's own (FOR NO KEY UPDATE): a plain FOR UPDATE would also wait
    for the key-share locks that other registrations' inserts hold on the event row, and
    deadlock with them."""
    db.session.connection().execute(_LOCK_EVENT, {"seat_event": event_id})


def _give_back_seat(event_id: int) -> None:
    db.session.execute(
        update(Event)
        .where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def withdraw(
    registration: Registration, *, by: str, message: str | None = None
) -> Registration | None:
    """Cancel `registration` (`by` one of `CANCELLED_BY`) and hand its seat to the first on
    the waitlist; returns the promoted registration, if any. Cancelling twice changes
    nothing, and so does cancelling a walk-in (they were never registered, hold nothing and
    were sent nothing)."""
    if registration.status in ("cancelled", WALK_IN):
        return None
    previous_status = registration.status
    held_seat = registration.holds_seat
    registration.status = "cancelled"
    registration.cancelled_at = utcnow()
    registration.hold_expires_at = None
    registration.approval_seat = False
    db.session.flush()
    signals.cancelled.send(registration, previous_status=previous_status, by=by, message=message)
    if not held_seat:
        return None
    return free_seat(registration.event_id)


def free_seat(event_id: int) -> Registration | None:
    """A registration just gave its seat up: hand it to the first on the waitlist; returns the
    promoted registration, if any."""
    _give_back_seat(event_id)
    return promote_waitlist(event_id)


def seat_behind_waitlist(event_id: int) -> bool:
    """Take a free seat for a newcomer only when nobody is waiting for one: the waitlist keeps
    its turn (a seat freed meanwhile went to it). True when the seat was taken."""
    waiting = db.session.scalar(
        select(
            exists().where(Registration.event_id == event_id, Registration.status == "waitlisted")
        )
    )
    return not waiting and take_seat(event_id)


def confirm_paid(registration: Registration, now: datetime, *, reseat: bool = False) -> bool:
    """The hold is paid, so the seat is the registrant's.

    With `reseat`, a registration whose hold ran out before the money came takes a seat
    again if one is free and the event is still to come. False when there is no seat to give.
    """
    if registration.status == "confirmed":
        return True
    if registration.status == "cancelled" and reseat:
        event = db.session.get(Event, registration.event_id, populate_existing=True)
        if event is None or event.status == "cancelled" or now >= event.ends_at:
            return False
        if not take_seat(event.id):
            return False
        registration.cancelled_at = None
    elif registration.status != "pending_payment":
        return False
    registration.status = "confirmed"
    registration.hold_expires_at = None
    db.session.flush()
    # A second announcement of the same seat adds no second confirmation (the seat key).
    signals.registered.send(registration, again=True)
    return True


def promote_waitlist(event_id: int) -> Registration | None:
    """Give a free seat to the earliest waitlisted registrant."""
    event = db.session.get(Event, event_id)
    if event is None or event.status == "cancelled":
        return None  # nobody is let into a cancelled event (a hold released after it)
    first = db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == "waitlisted")
        .order_by(Registration.created_at, Registration.id)
        .limit(1)
    )
    if first is None or not take_seat(event_id):
        return None
    seat_waitlisted(first)
    return first


def seat_waitlisted(registration: Registration) -> None:
    """Move a waitlisted registration into the seat just taken for it."""
    event = db.session.get(Event, registration.event_id)
    held = "pending_payment" if event is not None and event.is_paid else "confirmed"
    registration.status = held
    if event is not None:
        registration.hold_expires_at = hold_until(
            event, utcnow(), current_app.config["PROMOTED_HOLD_MINUTES"], held
        )
    db.session.flush()
    signals.promoted.send(registration)


def hold_until(event: Event, now: datetime, minutes: int, status: str) -> datetime | None:
    """Until when a seat waiting for payment stays held: never past the event's start."""
    if status != "pending_payment":
        return None
    held = now + timedelta(minutes=minutes)
    return min(held, max(event.starts_at, now))
