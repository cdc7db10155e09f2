"""Where an event's platform sync stands, for the console: how many registrants are in each
state, and who could not be synced and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.platforms.models import AttendancePull, RegistrantSync
from app.platforms.registry import PLATFORMS, connector
from app.registrations.models import Registration

# A sync's state in people's words: the status and what the platform should hold.
STATES = {
    ("pending", "registered"): "Waiting to be added",
    ("sending", "registered"): "Being added",
    ("synced", "registered"): "Added",
    ("pending", "cancelled"): "Waiting to be cancelled",
    ("sending", "cancelled"): "Being cancelled",
    ("cancelled", "cancelled"): "Cancelled",
    ("failed", "registered"): "Could not be added",
    ("failed", "cancelled"): "Could not be cancelled",
}
# The people who could not be synced, listed at most this many.
FAILURES_SHOWN = 100


@dataclass
class Unsynced:
    email: str
    name: str
    error: str


@dataclass
class SyncState:
    label: str
    connected: bool
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Unsynced] = field(default_factory=list)
    failed: int = 0
    pull: AttendancePull | None = None


def sync_state(event: Event) -> SyncState | None:
    """The event's sync state; None when it is on no platform."""
    if not event.platform:
        return None
    state = SyncState(
        label=PLATFORMS.get(event.platform, event.platform),
        connected=connector(event.platform) is not None,
    )
    rows = db.session.execute(
        select(RegistrantSync.status, RegistrantSync.want, func.count())
        .where(RegistrantSync.event_id == event.id)
        .group_by(RegistrantSync.status, RegistrantSync.want)
    ).all()
    for status, want, count in rows:
        words = STATES.get((status, want), f"{status} ({want})")
        state.counts[words] = state.counts.get(words, 0) + count
        if status == "failed":
            state.failed += count
    failures = db.session.execute(
        select(
            Registration.email,
            Registration.first_name,
            Registration.last_name,
            RegistrantSync.last_error,
        )
        .join(Registration, Registration.id == RegistrantSync.registration_id)
        .where(RegistrantSync.event_id == event.id, RegistrantSync.status == "failed")
        .order_by(Registration.email_normalized)
        .limit(FAILURES_SHOWN)
    ).all()
    state.failures = [
        Unsynced(email, f"{first} {last}".strip(), error or "")
        for email, first, last, error in failures
    ]
    state.pull = db.session.scalar(
        select(AttendancePull).where(AttendancePull.event_id == event.id)
    )
    return state
