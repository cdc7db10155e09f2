"""Approval: staff approve a registration that is `pending_approval` into a seat (or onto the
waitlist), or decline it, giving back the seat it held.

A registration for an event with `requires_approval` waits in `pending_approval` (see
`services.register`, and `opt_in.verify` when the address is verified first). It holds a seat
meanwhile only when its `approval_seat` says so. Approving announces it through the usual
`registered` signal, so the confirmation and invite (or the waitlist letter) go out then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.db import db, utcnow, writing
from app.events.models import Event
from app.refusals import Refusal
from app.registrations import signals
from app.registrations.models import Registration
from app.registrations.seats import free_seat, seat_behind_waitlist
from app.registrations.services import RegistrationRefused

NOT_PENDING = "This registration is not pending approval: it is {status}."


def approve(registration_id: int, now: datetime | None = None) -> Registration:
    """Approve a pending registration: the seat it held is its own now; one that held none
    takes a free seat if nobody on the waitlist is ahead of it, and joins the waitlist
    otherwise. Refused (409) when it is not pending, or there is neither seat nor waitlist."""
    now = now or utcnow()
    with writing():
        registration = _pending(registration_id)
        event = db.session.get(Event, registration.event_id, populate_existing=True)
        if event is None or event.status == "cancelled":
            raise RegistrationRefused("This event has been cancelled.")
        if now >= event.ends_at:
            raise RegistrationRefused("This event has already taken place.")
        if registration.approval_seat or seat_behind_waitlist(event.id):
            registration.status = "confirmed"
        elif event.waitlist:
            registration.status = "waitlisted"
        else:
            raise RegistrationRefused(
                "There is no free seat for this registration and the event has no waitlist: "
                "raise the capacity, or decline it.",
                full=True,
            )
        registration.approval_seat = False
        registration.decided_at = now
        db.session.flush()
        # The usual confirmation and invite (or the waitlist letter) go out now.
        signals.registered.send(registration, again=True)
        return registration


def decline(registration_id: int, now: datetime | None = None) -> Registration:
    """Decline a pending registration: it is told politely, and a seat it held goes to the
    first on the waitlist (as a cancellation's does). Refused (409) when it is not pending."""
    with writing():
        registration = _pending(registration_id)
        held_seat = registration.approval_seat
        registration.status = "declined"
        registration.approval_seat = False
        registration.decided_at = now or utcnow()
        db.session.flush()
        signals.declined.send(registration)
        if held_seat:
            free_seat(registration.event_id)
        return registration


class UnknownRegistration(Refusal):
    """No registration has this id."""

    status = 404


def _pending(registration_id: int) -> Registration:
    # Locked, so that two staff deciding at once decide once: the second finds it decided.
    registration = db.session.get(
        Registration, registration_id, populate_existing=True, with_for_update=True
    )
    if registration is None:
        raise UnknownRegistration(f"There is no registration with the id {registration_id}.")
    if registration.status != "pending_approval":
        raise RegistrationRefused(NOT_PENDING.format(status=registration.status))
    return registration


@dataclass
class Decisions:
    """What a decision on several registrations came to: who was decided, who was refused."""

    done: list[Registration] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def decide_all(registration_ids: Iterable[int], decide: Callable[[int], Registration]) -> Decisions:
    """Approve or decline (`decide`) each registration in turn, in a transaction of its own,
    so one that cannot be decided (no seat left, decided meanwhile) stops none of the others."""
    decisions = Decisions()
    for registration_id in registration_ids:
        try:
            decisions.done.append(decide(registration_id))
        except Refusal as refusal:
            decisions.refused.append((registration_id, refusal.message))
    return decisions
