"""The one door into the webhook outbox: an event becomes one delivery row per subscription
that wants it, written in the transaction that caused it (never committed here), so a
delivery exists if and only if its cause was committed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import db, utcnow
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from app.worker import wake_after_commit


def announce(event_type: str, key: str, data: dict[str, Any]) -> int:
    """Owe every active subscription to `event_type` this event, once: `key` names its cause,
    so announcing the same cause again adds nothing. Returns how many rows were added."""
    assert event_type in EVENT_TYPES, event_type
    wanting = [
        subscription.id
        for subscription in db.session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        )
        if event_type in subscription.events
    ]
    if not wanting:
        return 0
    now = utcnow()
    body = {"type": event_type, "timestamp": iso(now), "data": data}
    event_key = f"{event_type}:{key}"[:200]
    rows = [
        {
            "subscription_id": subscription_id,
            "event_key": event_key,
            "event_type": event_type,
            "message_id": "msg_" + secrets.token_hex(16),
            "payload": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for subscription_id in wanting
    ]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(WebhookDelivery.__table__)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_key"])
        .returning(WebhookDelivery.__table__.c.id)
    )
    added = len(list(db.session.connection().execute(statement, rows).scalars()))
    if added:
        wake_after_commit()
    return added


def iso(moment: datetime) -> str:
    """A moment as the payload carries it: ISO 8601 in UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stamp(moment: datetime) -> str:
    """A moment as it appears in an event key (UTC, to the microsecond)."""
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"
