"""What waits in the worker's queues, read from the database: the outbox by state, how long
the oldest due message has waited, leases that ran out (a worker died holding them), and what
was given up (failed messages, failed or paused webhook deliveries, failed platform syncs).
Read by each scrape of `/metrics` and by the console's operations page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.mail.models import OUTBOX_STATUSES, OutboxMessage
from app.platforms.models import AttendancePull, RegistrantSync
from app.registrations.models import Registration
from app.webhooks.models import DELIVERY_STATUSES, WebhookDelivery, WebhookSubscription

# The failures listed on the page, newest first, at most this many of each kind.
LISTED = 50
# The queues whose rows a worker leases: a lease past its time is a stuck one.
LEASED = {
    "outbox": OutboxMessage,
    "webhooks": WebhookDelivery,
    "platform_syncs": RegistrantSync,
    "attendance_pulls": AttendancePull,
}
# Outbox states that are still owed (the rest are finished: sent, failed, skipped).
OWED = ("unwritten", "pending", "sending")


@dataclass
class Backlog:
    outbox: dict[str, int]
    oldest_due_seconds: float
    stuck_leases: dict[str, int]
    webhooks: dict[str, int]
    platform_syncs: dict[str, int]
    paused_webhooks: int = 0
    failures: dict[str, list[Any]] = field(default_factory=dict)


def backlog(now: datetime | None = None, *, with_failures: bool = False) -> Backlog:
    now = now or utcnow()
    found = Backlog(
        outbox=_by_state(OutboxMessage, OUTBOX_STATUSES),
        oldest_due_seconds=oldest_due_seconds(now),
        stuck_leases={name: _stuck(model, now) for name, model in LEASED.items()},
        webhooks=_by_state(WebhookDelivery, DELIVERY_STATUSES),
        platform_syncs=_by_state(RegistrantSync, ("pending", "sending", "failed")),
        paused_webhooks=db.session.scalar(
            select(func.count())
            .select_from(WebhookSubscription)
            .where(WebhookSubscription.active.is_(False))
        )
        or 0,
    )
    if with_failures:
        found.failures = {
            "messages": failed_messages(),
            "deliveries": failed_deliveries(),
            "syncs": failed_syncs(),
        }
    return found


def oldest_due_seconds(now: datetime) -> float:
    """How long the longest-waiting message owed now has been due (0 when none is)."""
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status.in_(("unwritten", "pending")),
            OutboxMessage.next_attempt_at <= now,
        )
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


def seats_left_by_event(now: datetime | None = None) -> list[tuple[str, int]]:
    """(slug, seats left) of each published event with a capacity that has not ended."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Event.slug, Event.capacity - Event.seats_taken)
        .where(Event.status == "published", Event.ends_at > now, Event.capacity.is_not(None))
        .order_by(Event.slug)
    ).all()
    return [(slug, max(int(left), 0)) for slug, left in rows]


def failed_messages() -> list[Any]:
    return list(
        db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.recipient,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
                OutboxMessage.request_id,
                OutboxMessage.created_at,
            )
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.id.desc())
            .limit(LISTED)
        )
    )


def failed_deliveries() -> list[Any]:
    """Deliveries given up on, and those waiting on a paused subscription."""
    return list(
        db.session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.subscription_id,
                WebhookDelivery.event_type,
                WebhookDelivery.status,
                WebhookDelivery.attempts,
                WebhookDelivery.last_error,
                WebhookDelivery.request_id,
                WebhookSubscription.url,
                WebhookSubscription.active,
            )
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                (WebhookDelivery.status == "failed")
                | (
                    WebhookSubscription.active.is_(False)
                    & (WebhookDelivery.status == "pending")
                    & WebhookDelivery.last_error.is_not(None)
                )
            )
            .order_by(WebhookDelivery.id.desc())
            .limit(LISTED)
        )
    )


def failed_syncs() -> list[Any]:
    return list(
        db.session.execute(
            select(
                RegistrantSync.id,
                RegistrantSync.platform,
                RegistrantSync.want,
                RegistrantSync.attempts,
                RegistrantSync.last_error,
                Registration.email,
                Event.slug,
            )
            .join(Registration, Registration.id == RegistrantSync.registration_id)
            .join(Event, Event.id == RegistrantSync.event_id)
            .where(RegistrantSync.status == "failed")
            .order_by(RegistrantSync.id.desc())
            .limit(LISTED)
        )
    )


def _by_state(model: Any, states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    for state, count in db.session.execute(
        select(model.status, func.count()).group_by(model.status)
    ):
        counts[state] = count
    return counts


def _stuck(model: Any, now: datetime) -> int:
    """Rows still `sending` whose lease ran out: their worker stopped before finishing."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.status == "sending", model.locked_until <= now)
        )
        or 0
    )
