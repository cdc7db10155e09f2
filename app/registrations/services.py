"""Registering, cancelling and staff's seat actions, and the lead each registration touches.

Every change here runs in one write transaction (`app.db.writing`), so the seat count, the
registration, the lead and (later) the messages they cause commit together or not at all.
The seat count itself, the waitlist's turn and a paid hold's end are `seats.py`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from typing import Any, ClassVar

from flask import current_app
from sqlalchemy import bindparam, func, insert, inspect, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app import fields
from app.db import db, upsert, utcnow, writing
from app.events.models import Event
from app.languages import N_
from app.refusals import Refusal
from app.registrations import links, signals
from app.registrations.answers import checked_answers
from app.registrations.consent import record_consent
from app.registrations.models import WALK_IN, Lead, Registration
from app.registrations.questions import questions_of
from app.registrations.seats import hold_until, lock_event, seat_waitlisted, take_seat, withdraw

# A unique-key race (the same email twice in the same instant) is retried this many times.
_RACE_RETRIES = 3


class RegistrationRefused(Refusal):
    """Registration is not possible; the message is for the registrant."""

    status = 409

    def __init__(self, message: str, *, full: bool = False) -> None:
        super().__init__(message)
        self.full = full


@dataclass
class Registrant:
    """What a person gave us when registering, already checked (see `app.fields`)."""

    email: str
    email_normalized: str
    first_name: str
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    country: str | None = None
    phone: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    gclid: str | None = None
    fbclid: str | None = None
    referrer: str | None = None
    source_link_id: int | None = None
    consent_marketing: bool = False
    # The language they registered in; one the event does not offer reads as its main one.
    language: str | None = None
    # Which door the consent came through (the consent record's `source`); not a column.
    consent_source: str = "form"

    # The fields a person types, in the names forms and the API use.
    TYPED: ClassVar[tuple[str, ...]] = (
        "email",
        "first_name",
        "last_name",
        "company",
        "job_title",
        "country",
        "phone",
    )

    @classmethod
    def from_typed(cls, typed: dict[str, Any], **tracking: Any) -> Registrant:
        """Tidy values that passed the field rules into the one form we store: the email
        normalized, the country upper case, the phone in E.164, names without spaces around."""
        email, key = fields.normalize_email(typed["email"])
        country = fields.country_code(typed["country"]) if typed.get("country") else None
        phone = typed.get("phone")
        return cls(
            email=email,
            email_normalized=key,
            first_name=(typed.get("first_name") or "").strip(),
            last_name=(typed.get("last_name") or "").strip(),
            company=(typed.get("company") or "").strip(),
            job_title=(typed.get("job_title") or "").strip(),
            country=country,
            phone=fields.phone_number(phone, country) if phone else None,
            **tracking,
        )


# Every field of a Registrant but its consent's source is a column of the same name on
# Registration.
_PERSON_FIELDS = tuple(
    item.name for item in dataclass_fields(Registrant) if item.name != "consent_source"
)


@dataclass
class Outcome:
    registration: Registration
    created: bool


def register(
    event_id: int,
    person: Registrant,
    now: datetime | None = None,
    *,
    by_staff: bool = False,
    mail_existing_link: bool = False,
) -> Outcome:
    """Reserve a seat (or a waitlist place) for `person`, or return their existing registration.

    Seats are taken with one conditional UPDATE on the event row, so concurrent requests in any
    number of processes never confirm more than the capacity; the database's CHECK backs it.
    `by_staff`: staff adding someone by hand may do so while the public form is closed (a
    draft, or after the registration deadline), but never to a cancelled or finished event.
    `mail_existing_link`: the caller cannot prove they own the email (the public form and
    API), so an existing registration is not handed to them: its stored address is emailed its
    manage link instead, in the same transaction (see `register_publicly`).
    """
    for _attempt in range(_RACE_RETRIES):
        try:
            with writing():
                outcome = _register_once(event_id, person, now, by_staff, mail_existing_link)
                written = _column_values(outcome.registration)
            # The commit expired the row; what it holds is what was just written, so the
            # faces read it without a SELECT.
            for name, value in written.items():
                set_committed_value(outcome.registration, name, value)
            return outcome
        except IntegrityError:
            # Someone registered this email (or created this lead) in the same instant; the
            # retry finds their row.
            continue
    raise RuntimeError("registration kept colliding with concurrent writes")


def _column_values(registration: Registration) -> dict[str, Any]:
    """The column values the session holds for `registration` (those it wrote or read)."""
    loaded = inspect(registration).dict
    return {key: loaded[key] for key in _REGISTRATION_COLUMNS if key in loaded}


_REGISTRATION_COLUMNS = tuple(attr.key for attr in inspect(Registration).column_attrs)


def register_publicly(event_id: int, person: Registrant) -> Outcome:
    """A registration from someone who merely typed an email (the landing form, the public
    API). When that email is already registered, the Outcome's registration is the existing
    one, for the face to hide: its manage link goes by email to the stored address only."""
    return register(event_id, person, mail_existing_link=True)


# Built once: every registration asks it first (see `app.events.services.by_slug`).
_REGISTERED = select(Registration).where(
    Registration.event_id == bindparam("event_id"),
    Registration.email_normalized == bindparam("email"),
)


_INSERT_REGISTRATION = insert(Registration).returning(Registration)


def _register_once(
    event_id: int,
    person: Registrant,
    given_now: datetime | None,
    by_staff: bool,
    mail_existing_link: bool,
) -> Outcome:
    now = given_now or utcnow()
    existing = db.session.scalar(
        _REGISTERED, {"event_id": event_id, "email": person.email_normalized}
    )
    # A walk-in who registers later gets their row back as a real registration, as does a
    # cancelled registrant.
    if existing is not None and existing.status not in ("cancelled", WALK_IN):
        # A link past its time would open nothing: no email for it.
        if mail_existing_link and now < links.expires_at(existing):
            # Locked, so that concurrent requests count each other's emails against the cap.
            db.session.scalar(
                select(Registration.id).where(Registration.id == existing.id).with_for_update()
            )
            signals.link_requested.send(existing, now=now)
        return Outcome(existing, created=False)

    event = db.session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise RegistrationRefused(N_("This event does not exist."))
    if reason := (_closed_to_staff(event, now) if by_staff else event.closed_reason(now)):
        raise RegistrationRefused(reason)
    # Staff adding someone by hand may not know their answers: nothing is required of them.
    answers = checked_answers(questions_of(event.id), person.answers, complete=not by_staff)

    # Double opt-in: the address is proven by opening the verification link (staff vouch for
    # whom they add; a payment proves it on a paid event).
    verifying = event.double_opt_in and not by_staff and not event.is_paid
    # Approval: staff decide who comes (whom they add themselves, they have decided on).
    approving = event.requires_approval and not by_staff
    # Consent comes with the proof that the address is the registrant's: not yet, if verifying.
    signals.registering.send(event)
    lead_id = touch_lead(event, person, now, consent=not verifying)
    # Taken last: on PostgreSQL the seat UPDATE locks the event row until the commit.
    if approving and not event.approval_holds_seat:
        status = _no_seat_until_approved(event)
    else:
        status = _take_seat_or_waitlist(event, comped=by_staff)
    # The arrival time (the waitlist's order) is read only now, inside the seat lock: whoever
    # took a seat before us is stamped earlier, and anyone after us later. Read before the
    # lock, one stamped earlier could wait for it and be waitlisted while a later one got the
    # last seat.
    arrived = given_now or utcnow()
    values: dict[str, Any] = {name: getattr(person, name) for name in _PERSON_FIELDS}
    values.update(
        event_id=event.id,
        lead_id=lead_id,
        # A cancelled registrant who registers again gets their old row back (its invite UID,
        # its history) but a new manage link: whoever held the old one no longer reaches it.
        manage_token=secrets.token_urlsafe(24),
        language=event.language_for(person.language),
        answers=answers,
        status="unverified" if verifying else status,
        approval_seat=False,
        # A seat taken for an unverified registration stays held until verified or expired.
        verified_status=status if verifying else None,
        # Deadlines run from the arrival time, the moment the registration records as its own.
        verify_by=verification_deadline(arrived) if verifying else None,
        verified_at=None,
        decided_at=None,
        cancelled_at=None,
        created_at=arrived,
        hold_expires_at=hold_until(
            event, arrived, current_app.config["PAYMENT_HOLD_MINUTES"], status
        ),
    )
    if approving and not verifying:
        # As `await_approval` leaves it.
        values.update(status="pending_approval", approval_seat=status == "confirmed")
    if existing is None:
        # One INSERT … RETURNING gives the session the row as stored (defaults included),
        # without the unit of work's flush.
        registration = db.session.scalars(_INSERT_REGISTRATION, [values]).one()
    else:
        registration = existing
        for name, value in values.items():
            setattr(registration, name, value)
        db.session.flush()
    signals.registered.send(registration)
    # A revived (previously cancelled) registration counts as new: the person was not registered.
    return Outcome(registration, created=True)


def await_approval(registration: Registration, *, holding: bool) -> None:
    """Leave `registration` for staff to approve or decline (`approval.py`); `holding`: the
    seat taken for it stays held meanwhile."""
    registration.status = "pending_approval"
    registration.approval_seat = holding


def verification_deadline(now: datetime) -> datetime:
    return now + timedelta(hours=current_app.config["VERIFICATION_HOURS"])


def _closed_to_staff(event: Event, now: datetime) -> str | None:
    if event.status == "cancelled":
        return "This event has been cancelled."
    if now >= event.ends_at:
        return "This event has already taken place."
    return None


def add_by_hand(event_id: int, person: Registrant) -> Outcome:
    """Staff register someone themselves; the same seat and waitlist rules apply. On a paid
    event the person is a guest: their seat is confirmed without a payment."""
    return register(event_id, person, by_staff=True)


def _take_seat_or_waitlist(event: Event, *, comped: bool = False) -> str:
    # Someone staff add by hand to a paid event is their guest: no payment is asked.
    held = "pending_payment" if event.is_paid and not comped else "confirmed"
    if take_seat(event.id):
        return held
    if event.waitlist:
        # Hold the event row until the commit, as a taken seat does: a seat freed meanwhile
        # then goes to this registration by its turn, not to a later newcomer.
        lock_event(event.id)
        return "waitlisted"
    raise RegistrationRefused(N_("This event is full."), full=True)


def _no_seat_until_approved(event: Event) -> str:
    """The seat status of a registration that takes no seat before it is approved: none held
    ("waitlisted" in the status's words), unless there is none to give it and no waitlist."""
    if event.seats_left == 0 and not event.waitlist:
        raise RegistrationRefused(N_("This event is full."), full=True)
    return "waitlisted"


# What a newer registration changes on an existing lead: the latest touch always, and a field
# the person filled in (a blank one never erases what the lead has).
_LEAD_FILLED = ("first_name", "last_name", "company", "job_title", "country", "phone")
_LEAD_TOUCH = ("event_id", "campaign_id", "utm_source", "utm_medium", "utm_campaign", "touch_at")
_LEAD_ON_CONFLICT = ", ".join(
    [f"latest_{key} = excluded.latest_{key}" for key in _LEAD_TOUCH]
    + [
        f"{name} = CASE WHEN COALESCE(excluded.{name}, '') <> '' THEN excluded.{name} "
        f"ELSE leads.{name} END"
        for name in _LEAD_FILLED
    ]
    + ["updated_at = excluded.updated_at"]
)


def touch_lead(event: Event, person: Registrant, now: datetime, *, consent: bool) -> int:
    """Create or update the one lead for this email: first touch once, latest touch always;
    the lead's id.

    One upsert, so the lead is neither read back nor flushed through the ORM. With `consent`,
    a ticked consent box is recorded now; otherwise it waits for verification.
    """
    touch = {
        "event_id": event.id,
        "campaign_id": event.campaign_id,
        "utm_source": person.utm_source,
        "utm_medium": person.utm_medium,
        "utm_campaign": person.utm_campaign,
        "touch_at": now,
    }
    row: dict[str, Any] = {name: getattr(person, name) for name in _LEAD_FILLED}
    row.update(country=person.country or None, phone=person.phone or None)
    row.update({f"first_{key}": value for key, value in touch.items()})
    row.update({f"latest_{key}": value for key, value in touch.items()})
    lead_id: int = db.session.execute(
        upsert(Lead.__table__, ("email",), _LEAD_ON_CONFLICT, "id"),
        {
            **row,
            "email": person.email_normalized,
            "status": "new",
            "score": 0,
            "consent_marketing": False,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    if consent and person.consent_marketing:
        lead = db.session.get(Lead, lead_id, populate_existing=True)
        assert lead is not None  # written a moment ago, in this transaction
        record_consent(lead, now, person.consent_source)
    return lead_id


def cancel(
    registration_id: int, *, by: str = "registrant", message: str | None = None
) -> Registration | None:
    """Cancel a registration and hand its seat to the first on the waitlist, in one transaction.

    `by` says who gave the seat up: the registrant, staff, the payment flow (a hold that
    was never paid) or double opt-in (a registration never verified in time); `message` is
    staff's word to the registrant, carried by the email. Returns the promoted registration,
    if any. Cancelling twice changes nothing.
    """
    with writing():
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None:
            return None
        return withdraw(
            registration, by=by, message=(message or "").replace("\r\n", "\n").strip() or None
        )


def promote(registration_id: int) -> Registration:
    """Give a free seat to this waitlisted registrant, whatever their place in the queue.

    Staff use it to let someone in out of order; it takes a seat by the same rule as
    registering, so it never goes past the capacity.
    """
    with writing():
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None or registration.status != "waitlisted":
            raise RegistrationRefused("Only a registration on the waitlist can be promoted.")
        if not take_seat(registration.event_id):
            raise RegistrationRefused(
                "There is no free seat: raise the capacity or cancel a registration first.",
                full=True,
            )
        seat_waitlisted(registration)
        return registration


def check_in(registration_id: int, *, present: bool = True) -> Registration:
    """Mark a confirmed registrant of an in-person event as arrived (or undo it)."""
    with writing():
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None:
            raise RegistrationRefused("This registration does not exist.")
        event = db.session.get(Event, registration.event_id)
        if event is None or not event.location:
            raise RegistrationRefused("Check-in is for events with a location.")
        if present and registration.status != "confirmed":
            raise RegistrationRefused("Only a confirmed registrant can be checked in.")
        if present and registration.checked_in_at is None:
            registration.checked_in_at = utcnow()
        elif not present:
            registration.checked_in_at = None
        return registration


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to get a seat; None when not waitlisted."""
    if registration.status != "waitlisted":
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == "waitlisted",
            # Bound against the columns' own types, so the instant is stored-format UTC.
            tuple_(Registration.created_at, Registration.id)
            < (registration.created_at, registration.id),
        )
    )
    return (ahead or 0) + 1
