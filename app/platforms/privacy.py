"""What the webinar platforms hold about a person, for an export, and erasing it: their
registrants are cancelled on the platform (at once when it answers, else by the worker's next
pass), their personal join links dropped, and every mention in a stored platform webhook
blanked. The sync rows stay, without anything personal, so the console's counts hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db import db
from app.platforms.base import PlatformError
from app.platforms.models import RegistrantSync, WebhookReceipt
from app.platforms.registry import connector
from app.privacy.registry import Person, scan
from app.registrations.models import Registration


def export(person: Person) -> dict[str, Any]:
    return {
        "platform_registrants": [
            {
                "platform": row.platform,
                "webinar_id": row.webinar_id,
                "status": row.status,
                "registration_id": row.registration_id,
                "join_url": registration.join_url,
            }
            for row, registration in _synced(person)
        ]
    }


def erase(person: Person, now: datetime) -> int:
    touched = 0
    for row, registration in _synced(person):
        if row.registrant_id and row.status != "cancelled":
            _cancel_now_or_later(row, registration.email, now)
        row.last_error = person.scrub(row.last_error) if row.last_error else None
        touched += 1
    for registration in _registrations(person):
        if registration.join_url:
            registration.join_url = None
            touched += 1
    for receipt in _receipts_about(person):
        receipt.payload = person.scrub_value(receipt.payload)
        touched += 1
    return touched


def _cancel_now_or_later(row: RegistrantSync, email: str, now: datetime) -> None:
    """Ask the platform to drop the registrant while their address is still known; when it
    cannot be asked now, the sync job cancels by the registrant's id on its next pass."""
    row.want = "cancelled"
    platform = connector(row.platform)
    if platform is not None and row.registrant_id:
        try:
            platform.cancel_registrant(row.webinar_id, row.registrant_id, email)
        except PlatformError:
            pass
        else:
            row.status = "cancelled"
            row.synced_at = now
            return
    row.status = "pending"
    row.next_attempt_at = now


def _registrations(person: Person) -> list[Registration]:
    if not person.registration_ids:
        return []
    return list(
        db.session.scalars(select(Registration).where(Registration.id.in_(person.registration_ids)))
    )


def _synced(person: Person) -> list[tuple[RegistrantSync, Registration]]:
    if not person.registration_ids:
        return []
    return [
        (row, registration)
        for row, registration in db.session.execute(
            select(RegistrantSync, Registration)
            .join(Registration, Registration.id == RegistrantSync.registration_id)
            .where(RegistrantSync.registration_id.in_(person.registration_ids))
        ).tuples()
    ]


def _receipts_about(person: Person) -> Iterator[WebhookReceipt]:
    for receipt in scan(WebhookReceipt):
        if person.mentioned_in(json.dumps(receipt.payload, ensure_ascii=False)):
            yield receipt
