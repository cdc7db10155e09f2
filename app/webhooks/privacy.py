"""What webhook deliveries hold about a person (the payloads told to receivers, and what
receivers answered) for an export, and erasing it: every mention of the person in a payload
or a logged answer is blanked; the rows stay, so the delivery log keeps its counts.

Payloads are JSON, searched here rather than in SQL so SQLite and PostgreSQL agree; the scan
goes in chunks by id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from app.db import db
from app.privacy.people import iso
from app.privacy.registry import Person, scan
from app.webhooks.models import WebhookDelivery


def export(person: Person) -> dict[str, Any]:
    return {
        "webhook_deliveries": [
            {
                "event_type": delivery.event_type,
                "payload": delivery.payload,
                "status": delivery.status,
                "created_at": iso(delivery.created_at),
                "delivered_at": iso(delivery.delivered_at) if delivery.delivered_at else None,
            }
            for delivery in _about(person)
        ]
    }


def erase(person: Person, _now: datetime) -> int:
    touched = 0
    for delivery in _about(person):
        delivery.payload = person.scrub_value(delivery.payload)
        delivery.last_error = person.scrub(delivery.last_error) if delivery.last_error else None
        touched += 1
    return touched


def _about(person: Person) -> Iterator[WebhookDelivery]:
    for delivery in scan(WebhookDelivery):
        data = (delivery.payload or {}).get("data") or {}
        if (
            data.get("registration_id") in person.registration_ids
            or (person.lead_id is not None and data.get("lead_id") == person.lead_id)
            or person.mentioned_in(json.dumps(delivery.payload, ensure_ascii=False))
            or person.mentioned_in(delivery.last_error)
        ):
            yield delivery


def forget_old_deliveries(now: datetime) -> int:
    """A worker job: deliveries finished (delivered or given up) more than
    `RETAIN_DELIVERY_LOG_DAYS` ago are deleted, a batch per pass."""
    cutoff = now - timedelta(days=current_app.config["RETAIN_DELIVERY_LOG_DAYS"])
    ids = list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status.in_(("delivered", "failed")),
                WebhookDelivery.created_at < cutoff,
            )
            .order_by(WebhookDelivery.id)
            .limit(current_app.config["RETENTION_BATCH"])
        )
    )
    if ids:
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    db.session.commit()
    return len(ids)
