"""The one door into the webhook outbox: an event becomes one delivery row per subscription
that wants it, written in the transaction that caused it (never committed here), so a
delivery exists if and only if its cause was committed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import request_ids
from app.db import db, insert_ignoring, utcnow
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from app.worker import wake_after_commit

_SUBSCRIBERS = "reserve_webhook_subscribers"


def connect() -> None:
    """Forget the transaction's subscribers at its end (once per process)."""
    if not orm_event.contains(Session, "after_commit", _forget_subscribers):
        orm_event.listen(Session, "after_commit", _forget_subscribers)
        orm_event.listen(Session, "after_rollback", _forget_subscribers)


def wanted(event_type: str) -> bool:
    """Whether any active subscription wants `event_type` (so a receiver can skip its work)."""
    return bool(_subscribers(event_type))


def announce(event_type: str, key: str, data: dict[str, Any]) -> int:
    """Owe every active subscription to `event_type` this event, once: `key` names its cause,
    so announcing the same cause again adds nothing. Returns how many rows were added."""
    return announce_many(event_type, [(key, data)])


def announce_many(event_type: str, events: list[tuple[str, dict[str, Any]]]) -> int:
    """`announce` for many events of one type (a routing run's follow-ups), in one INSERT."""
    assert event_type in EVENT_TYPES, event_type
    wanting = _subscribers(event_type)
    if not wanting or not events:
        return 0
    now = utcnow()
    request_id = request_ids.current()
    rows = [
        {
            "subscription_id": subscription_id,
            "event_key": f"{event_type}:{key}"[:200],
            "event_type": event_type,
            "message_id": "msg_" + secrets.token_hex(16),
            "payload": {"type": event_type, "timestamp": iso(now), "data": data},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "request_id": request_id,
        }
        for key, data in events
        for subscription_id in wanting
    ]
    statement = insert_ignoring(WebhookDelivery.__table__, ("subscription_id", "event_key"), "id")
    added = len(list(db.session.connection().execute(statement, rows).scalars()))
    if added:
        wake_after_commit()
    return added


_subscriptions = WebhookSubscription.__table__.c
# Built once: every registration asks it (Core, so no ORM objects are made for two columns).
_ACTIVE = select(_subscriptions.id, _subscriptions.events).where(_subscriptions.active.is_(True))


def _subscribers(event_type: str) -> list[int]:
    """The active subscriptions to `event_type`: one lookup per transaction, not per event
    (cancelling or routing thousands of registrations announces thousands)."""
    cached: list[tuple[int, list[str]]] | None = db.session.info.get(_SUBSCRIBERS)
    if cached is None:
        active = db.session.connection().execute(_ACTIVE)
        cached = db.session.info[_SUBSCRIBERS] = [(row.id, list(row.events)) for row in active]
    return [subscription_id for subscription_id, events in cached if event_type in events]


def _forget_subscribers(session: Session) -> None:
    session.info.pop(_SUBSCRIBERS, None)


def iso(moment: datetime) -> str:
    """A moment as the payload carries it: ISO 8601 in UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stamp(moment: datetime) -> str:
    """A moment as it appears in an event key (UTC, to the microsecond)."""
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"
