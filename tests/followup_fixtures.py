"""Builders for follow-up tests: reps with routing profiles, attendance, bulk registrants.

Small numbers of registrants go through `tests.builders.register_person`; the volume tests
(thousands of leads) write leads and registrations in bulk, which is what the registration
service would leave behind, without paying for thousands of separate transactions.
"""

from __future__ import annotations

import io
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from app.auth.staff import update_rep_profile
from app.db import db
from app.events.models import Event
from app.followup.attendance import import_attendance
from app.followup.models import FollowUp
from app.models import User
from app.registrations.models import Lead, Registration
from tests.builders import make_user


def make_rep(
    email: str,
    *,
    name: str | None = None,
    countries: tuple[str, ...] = (),
    weight: int = 1,
    capacity: int | None = None,
    timezone: str = "UTC",
    out_of_office_until: date | None = None,
    active: bool = True,
) -> User:
    user = make_user("rep", email)
    user.name = name or email.split("@")[0].replace(".", " ").title()
    db.session.commit()
    assert user.rep_profile is not None
    update_rep_profile(
        user.rep_profile,
        {
            "countries": list(countries),
            "weight": weight,
            "capacity": capacity,
            "timezone": timezone,
            "out_of_office_until": out_of_office_until,
            "active": active,
        },
    )
    return user


def set_rep(user: User, **values: Any) -> None:
    assert user.rep_profile is not None
    update_rep_profile(user.rep_profile, values)


def registered_before_it_ends(event: Event) -> datetime:
    return event.starts_at - timedelta(hours=1)


def after(event: Event, minutes: int = 10) -> datetime:
    """A moment shortly after the event ended."""
    return event.ends_at + timedelta(minutes=minutes)


def attend(event: Event, minutes_by_email: dict[str, float]) -> None:
    """Import a plain attendance CSV through the attendance service."""
    lines = [
        "email,minutes",
        *(f"{email},{minutes}" for email, minutes in minutes_by_email.items()),
    ]
    import_attendance(event, io.BytesIO("\n".join(lines).encode()))


def bulk_registrants(
    event: Event,
    count: int,
    *,
    email: Any = None,
    country: str | None = None,
    attended_minutes: float | None = None,
    answers: dict[str, Any] | None = None,
    job_title: str = "",
) -> list[int]:
    """`count` leads registered for `event`, written in bulk; returns their lead ids.

    `email(i)` names the i-th registrant (default: one person per company domain).
    """
    email = email or (lambda i: f"person{i}@company{i}-{uuid.uuid4().hex[:6]}.example")
    created = registered_before_it_ends(event)
    addresses = [email(i).lower() for i in range(count)]
    known = set(db.session.scalars(select(Lead.email).where(Lead.email.in_(addresses))))
    fresh = [(i, address) for i, address in enumerate(addresses) if address not in known]
    if fresh:
        db.session.execute(
            insert(Lead),
            [
                {
                    "email": address,
                    "first_name": f"Person{i}",
                    "last_name": "Example",
                    "company": address.split("@")[1],
                    "job_title": job_title,
                    "country": country,
                    "status": "new",
                    "score": 0,
                    "consent_marketing": False,
                    "first_event_id": event.id,
                    "latest_event_id": event.id,
                    "created_at": created,
                    "updated_at": created,
                }
                for i, address in fresh
            ],
        )
    ids = dict(
        db.session.execute(select(Lead.email, Lead.id).where(Lead.email.in_(addresses))).all()
    )
    db.session.execute(
        insert(Registration),
        [
            {
                "event_id": event.id,
                "lead_id": ids[address],
                "email": address,
                "email_normalized": address,
                "first_name": f"Person{i}",
                "last_name": "Example",
                "company": address.split("@")[1],
                "job_title": job_title,
                "country": country,
                "answers": answers or {},
                "consent_marketing": False,
                "status": "confirmed",
                "manage_token": secrets.token_urlsafe(24),
                "invite_uid": f"{uuid.uuid4()}@test",
                "invite_sequence": 0,
                "questions_asked": 0,
                "attended_minutes": attended_minutes,
                "created_at": created + timedelta(microseconds=i),
                "updated_at": created,
            }
            for i, address in enumerate(addresses)
        ],
    )
    db.session.commit()
    return [ids[address] for address in addresses]


def followup_of(email: str, event: Event | None = None) -> FollowUp:
    query = select(FollowUp).join(Lead, Lead.id == FollowUp.lead_id).where(Lead.email == email)
    if event is not None:
        query = query.where(FollowUp.event_id == event.id)
    return db.session.scalars(query).one()
