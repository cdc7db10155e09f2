"""Keeping personal data no longer than set: a worker job that erases, in batches, the
people whose every registration is past its time (an event ended `RETAIN_REGISTRATIONS_DAYS`
ago, or a double opt-in never confirmed within `RETAIN_UNCONFIRMED_DAYS`). Each is erased as
an admin's request would be, logged with source "retention". Outbox bodies and delivery logs
have their own jobs, in the packages that own them."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.privacy.people import ERASED_DOMAIN, erase_person
from app.registrations.models import Lead, Registration


def apply_retention(now: datetime) -> int:
    """Erase up to `RETENTION_BATCH` people past their time; returns how many."""
    config = current_app.config
    past = now - timedelta(days=config["RETAIN_REGISTRATIONS_DAYS"])
    unconfirmed = now - timedelta(days=config["RETAIN_UNCONFIRMED_DAYS"])
    candidates = db.session.scalars(
        select(Lead.email)
        .where(
            Lead.latest_touch_at < max(past, unconfirmed),
            ~Lead.email.endswith("@" + ERASED_DOMAIN),
        )
        .order_by(Lead.id)
    )
    erased = 0
    for email in list(candidates):
        if erased >= config["RETENTION_BATCH"]:
            break
        if _all_past_their_time(email, past, unconfirmed):
            erase_person(email, actor="retention", source="retention", now=now)
            erased += 1
    return erased


def _all_past_their_time(email: str, past: datetime, unconfirmed: datetime) -> bool:
    rows = db.session.execute(
        select(Registration, Event)
        .join(Event, Registration.event_id == Event.id)
        .join(Lead, Registration.lead_id == Lead.id)
        .where(Lead.email == email)
    ).all()
    return all(
        event.ends_at < past or _never_confirmed(registration, unconfirmed)
        for registration, event in rows
    )


def _never_confirmed(registration: Registration, cutoff: datetime) -> bool:
    return (
        registration.verify_by is not None
        and registration.verified_at is None
        and registration.status in ("unverified", "cancelled")
        and registration.created_at < cutoff
    )
