"""Walk-ins: people an attendance report places in the room who never registered. Each gets a
`walk_in` registration on their lead (found or created by email), holding no seat and sending
nothing; a batch of them is written with two statements, whatever its size.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import fields
from app.db import column_length, db, insert_ignoring, upsert
from app.events.models import Event
from app.registrations.models import WALK_IN, Lead, Registration

# The lead a walk-in touches is written by the rule a registration's is (`touch_lead`).
from app.registrations.services import _LEAD_FILLED, _LEAD_ON_CONFLICT, _PERSON_FIELDS, Registrant


@dataclass
class WalkIn:
    """Someone in the room without a registration, as the report names them."""

    email: str
    name: str = ""
    # Further columns of their new registration (what the report says they did there).
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class WalkInsRecorded:
    created: int
    # The registration id of each person (by the email given) who had one already.
    existing: dict[str, int]


def record_walk_ins(event: Event, people: Sequence[WalkIn], now: datetime) -> WalkInsRecorded:
    """Give each of `people` a walk-in registration for `event` unless their email has one
    already; addresses no lead can have are skipped. Runs inside the caller's write
    transaction: one upsert for the leads, one insert for the registrations (a row someone
    else wrote meanwhile is left as it is, and reported in `existing`)."""
    persons: dict[str, tuple[WalkIn, Registrant]] = {}
    again: dict[str, str] = {}  # the email given, by the key of someone earlier in the batch
    for walk_in in people:
        try:
            person = _registrant(walk_in)
        except fields.InvalidValue:
            continue
        if person.email_normalized in persons:
            again[walk_in.email] = person.email_normalized
        else:
            persons[person.email_normalized] = (walk_in, person)
    if not persons:
        return WalkInsRecorded(created=0, existing={})
    lead_ids = _touch_leads(event, [person for _, person in persons.values()], now)
    created = set(
        db.session.scalars(
            insert_ignoring(
                Registration.__table__, ("event_id", "email_normalized"), "email_normalized"
            ),
            [
                {
                    **{name: getattr(person, name) for name in _PERSON_FIELDS},
                    **walk_in.values,
                    "event_id": event.id,
                    "lead_id": lead_ids[key],
                    "status": WALK_IN,
                    # Nobody asked them theirs: the event's main language.
                    "language": event.language,
                    "manage_token": secrets.token_urlsafe(24),
                    "created_at": now,
                }
                for key, (walk_in, person) in persons.items()
            ],
        )
    )
    waiting = {walk_in.email: key for key, (walk_in, _) in persons.items() if key not in created}
    waiting.update(again)
    existing: dict[str, int] = {}
    if waiting:
        ids = dict(
            db.session.execute(
                select(Registration.email_normalized, Registration.id).where(
                    Registration.event_id == event.id,
                    Registration.email_normalized.in_(set(waiting.values())),
                )
            ).tuples()
        )
        existing = {email: ids[key] for email, key in waiting.items() if key in ids}
    return WalkInsRecorded(created=len(created), existing=existing)


def _registrant(walk_in: WalkIn) -> Registrant:
    address, key = fields.normalize_email(walk_in.email)
    first_name, _, last_name = walk_in.name.strip().partition(" ")
    return Registrant(
        email=address,
        email_normalized=key,
        first_name=first_name[: column_length(Registration, "first_name")],
        last_name=last_name.strip()[: column_length(Registration, "last_name")],
    )


def _touch_leads(event: Event, persons: list[Registrant], now: datetime) -> dict[str, int]:
    """`touch_lead` for many people at once (none consents here): their lead ids by email."""
    touch = {
        "event_id": event.id,
        "campaign_id": event.campaign_id,
        "utm_source": None,
        "utm_medium": None,
        "utm_campaign": None,
        "touch_at": now,
    }
    rows = []
    for person in persons:
        row: dict[str, Any] = {name: getattr(person, name) for name in _LEAD_FILLED}
        row.update(country=person.country or None, phone=person.phone or None)
        row.update({f"first_{key}": value for key, value in touch.items()})
        row.update({f"latest_{key}": value for key, value in touch.items()})
        row.update(
            email=person.email_normalized,
            status="new",
            score=0,
            consent_marketing=False,
            created_at=now,
            updated_at=now,
        )
        rows.append(row)
    statement = upsert(Lead.__table__, ("email",), _LEAD_ON_CONFLICT, "id").returning(
        Lead.__table__.c.email
    )
    return {email: lead_id for lead_id, email in db.session.execute(statement, rows).tuples()}
