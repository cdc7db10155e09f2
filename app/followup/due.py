"""When routing runs by itself: the ended events whose follow-up is due, and the worker's pass
that routes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.followup.models import RoutingRun
from app.followup.routing import RoutingRefused, route_followups
from app.followup.scoring import load_settings
from app.registrations.models import Registration

# The worker routes events that ended at most this long ago (older ones only on demand).
AUTO_ROUTE_WINDOW = timedelta(days=14)


def due_events(now: datetime) -> list[Event]:
    """Ended events whose follow-up is due: attendance is in (newer than the last routing),
    or the wait for it has run out, and no routing has run since."""
    settings = load_settings()
    wait = timedelta(minutes=settings.route_after_minutes)
    last_run = (
        select(func.max(RoutingRun.ran_at))
        .where(RoutingRun.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )
    candidates = db.session.scalars(
        select(Event).where(
            Event.status == "published",
            Event.ends_at <= now,
            Event.ends_at > now - AUTO_ROUTE_WINDOW,
        )
    ).all()
    runs = dict(
        db.session.execute(
            select(Event.id, last_run).where(Event.id.in_([e.id for e in candidates]))
        )
        .tuples()
        .all()
    )
    # The latest on-demand view of each: a recording watched since the last routing is
    # attendance that arrived after it.
    watched = dict(
        db.session.execute(
            select(Registration.event_id, func.max(Registration.on_demand_at))
            .where(Registration.event_id.in_([e.id for e in candidates]))
            .group_by(Registration.event_id)
        )
        .tuples()
        .all()
    )
    due = []
    for event in candidates:
        ran_at = runs.get(event.id)
        viewed = watched.get(event.id)
        if ran_at is not None and viewed is not None and viewed > ran_at:
            due.append(event)
        elif event.attendance_imported_at is not None:
            if ran_at is None or ran_at < event.attendance_imported_at:
                due.append(event)
        elif ran_at is None and event.ends_at + wait <= now:
            due.append(event)
    return due


def route_due_events(now: datetime | None = None) -> int:
    """The worker's periodic call: route every event whose follow-up is due (see
    `due_events`). Returns how many follow-ups it created."""
    now = now or utcnow()
    created = 0
    for event in due_events(now):
        try:
            created += route_followups(event.id, trigger="worker", now=now).created
        except RoutingRefused:
            # Cancelled or moved since it was listed; the next pass lists it again if due.
            continue
    return created
