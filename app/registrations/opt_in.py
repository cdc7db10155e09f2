"""Double opt-in: the verification link, verifying a registration, and giving up the ones
never verified in time.

A registration for an event with `double_opt_in` starts `unverified` (see `services.register`):
it holds a seat if one was free, and its consent waits. Opening the link in the verification
email proves the address is the registrant's; only then is it confirmed (or waitlisted), told
so through the usual `registered` signal, and its consent recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.db import db, utcnow, writing
from app.events.models import Event
from app.registrations import signals
from app.registrations.consent import record_consent
from app.registrations.links import registration_signed, signed_token
from app.registrations.models import Registration
from app.registrations.seats import seat_behind_waitlist, withdraw
from app.registrations.services import RegistrationRefused, await_approval

# The expiry job gives up at most this many registrations per pass (one short transaction each).
EXPIRY_BATCH = 500


# Its own salt: the manage link (shown on the thanks page and to API callers) must not be
# turned into a verification link by anyone but the mailbox's owner.
VERIFY_SALT = "verify-registration"


def verify_token(registration: Registration) -> str:
    return signed_token(registration, VERIFY_SALT)


def verify_url(registration: Registration) -> str:
    return f"{current_app.config['BASE_URL']}/r/{verify_token(registration)}/verify"


def registration_to_verify(token: str) -> Registration | None:
    """The registration a verification link points at, or None for a forged or unknown link."""
    return registration_signed(token, VERIFY_SALT)


@dataclass
class Verification:
    registration: Registration
    # "verified": confirmed or waitlisted just now; "unchanged": it was no longer unverified
    # (opened twice, or cancelled); "expired": the deadline had passed, the seat is given up.
    outcome: str


def verify(registration_id: int, now: datetime | None = None) -> Verification | None:
    """The registrant opened their verification link: confirm (or waitlist) them, once."""
    now = now or utcnow()
    with writing():
        registration = db.session.get(
            Registration, registration_id, populate_existing=True, with_for_update=True
        )
        if registration is None:
            return None
        if registration.status != "unverified":
            return Verification(registration, "unchanged")
        if registration.verify_by is not None and now >= registration.verify_by:
            # The expiry job had not come round yet; the deadline holds all the same.
            withdraw(registration, by="verification")
            return Verification(registration, "expired")
        event = db.session.get(Event, registration.event_id, populate_existing=True)
        if event is None or event.status == "cancelled":
            raise RegistrationRefused("This event has been cancelled.")
        if now >= event.ends_at:
            raise RegistrationRefused("This event has already taken place.")
        if event.requires_approval:
            # The address is proven; now staff decide, and the seat held (or not) stays so.
            await_approval(registration, holding=registration.verified_status == "confirmed")
        else:
            registration.status = _status_once_verified(registration, event)
        registration.verified_status = None
        registration.verify_by = None
        registration.verified_at = now
        if registration.consent_marketing:
            record_consent(registration.lead, now, "link", registration)
        db.session.flush()
        # The usual confirmation and invite (or waitlist or "we'll confirm shortly" letter) go
        # out now, not before.
        signals.registered.send(registration, again=True)
        return Verification(registration, "verified")


def _status_once_verified(registration: Registration, event: Event) -> str:
    if registration.verified_status == "confirmed":
        return "confirmed"  # its seat has been held since it registered
    # It registered when the event was full; a seat freed meanwhile went to the waitlist.
    return "confirmed" if seat_behind_waitlist(event.id) else "waitlisted"


def expire_unverified(now: datetime) -> int:
    """The worker's job: cancel unverified registrations past their deadline, give their
    seats back and promote the waitlist. Nobody is emailed: they never confirmed."""
    due = db.session.scalars(
        select(Registration.id)
        .where(Registration.status == "unverified", Registration.verify_by <= now)
        .order_by(Registration.verify_by, Registration.id)
        .limit(EXPIRY_BATCH)
    ).all()
    db.session.commit()
    expired = 0
    for registration_id in due:
        # One short transaction each, so the event's seat lock is never held for long.
        with writing():
            registration = db.session.get(
                Registration, registration_id, populate_existing=True, with_for_update=True
            )
            if (
                registration is None
                or registration.status != "unverified"
                or registration.verify_by is None
                or registration.verify_by > now
            ):
                continue  # verified (or cancelled) since the scan
            withdraw(registration, by="verification")
            expired += 1
    return expired
