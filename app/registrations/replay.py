"""The on-demand replay: after a webinar with a recording, its landing page takes the same
form to watch it, and every view goes through a tracked link that records on-demand
attendance before it sends the viewer on to the recording."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from app.db import db, rows_changed, utcnow, writing
from app.events.models import Event
from app.events.notice import offers_replay
from app.languages import N_
from app.registrations import signals
from app.registrations.answers import checked_answers
from app.registrations.links import registration_signed, signed_token
from app.registrations.models import ON_DEMAND, Registration
from app.registrations.questions import questions_of
from app.registrations.services import (
    _PERSON_FIELDS,
    Registrant,
    RegistrationRefused,
    touch_lead,
)

WATCH_SALT = "watch-recording"
NO_RECORDING = N_("This event has no recording to watch.")


def register_for_replay(
    event_id: int, person: Registrant, now: datetime | None = None
) -> tuple[Registration, bool]:
    """The registration that watches `event_id`'s recording and whether this made it: the
    person's own when they registered before (for the live event, or walked in), else a new
    `on_demand` one that holds no seat. Commits."""
    now = now or utcnow()
    with writing():
        event = db.session.get(Event, event_id, populate_existing=True)
        if event is None or not offers_replay(event, now):
            raise RegistrationRefused(NO_RECORDING)
        existing = db.session.scalar(
            select(Registration).where(
                Registration.event_id == event_id,
                Registration.email_normalized == person.email_normalized,
            )
        )
        if existing is not None and existing.status != "cancelled":
            return existing, False
        answers = checked_answers(questions_of(event.id), person.answers)
        lead_id = touch_lead(event, person, now, consent=True)
        registration = existing or Registration(event_id=event.id)
        registration.manage_token = secrets.token_urlsafe(24)
        registration.lead_id = lead_id
        for name in _PERSON_FIELDS:
            setattr(registration, name, getattr(person, name))
        registration.language = event.language_for(person.language)
        registration.answers = answers
        registration.status = ON_DEMAND
        registration.cancelled_at = None
        registration.hold_expires_at = None
        registration.created_at = now
        db.session.add(registration)
        db.session.flush()
        signals.registered.send(registration)
    return registration, True


def watch_token(registration: Registration) -> str:
    """The signed token of the registration's tracked link to the recording."""
    return signed_token(registration, WATCH_SALT)


def watch_url(registration: Registration) -> str:
    """The registration's tracked link to its event's recording, for letters (no request)."""
    base = current_app.config["BASE_URL"]
    return f"{base}/e/{registration.event.slug}/watch/{watch_token(registration)}"


def watching(token: str) -> Registration | None:
    """The registration a watch token names; None for a forged or tampered one."""
    return registration_signed(token, WATCH_SALT)


def record_view(registration: Registration, now: datetime | None = None) -> bool:
    """Record one on-demand view (the first sets `on_demand_at`); True for the first. Commits.
    Live attendance is untouched: someone who was there and watches again stays an attendee."""
    now = now or utcnow()
    with writing():
        first = (
            rows_changed(
                update(Registration)
                .where(Registration.id == registration.id, Registration.on_demand_at.is_(None))
                .values(on_demand_at=now)
                .execution_options(synchronize_session=False)
            )
            == 1
        )
        db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id)
            .values(on_demand_views=Registration.on_demand_views + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(registration, ["on_demand_at", "on_demand_views"])
        signals.watched_on_demand.send(registration, first=first)
    return first
