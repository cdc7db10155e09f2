"""What the outbox holds about a person (every message to them, with its date and subject)
for an export, and erasing it: bodies, addresses and `.eml` copies go; the rows stay, so the
counts of what was sent stay true. A letter to staff that names the person (a rep's digest)
loses its body too."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from app.db import db
from app.mail.models import OutboxMessage
from app.mail.posts import eml_name
from app.privacy.people import ERASED_DOMAIN, iso
from app.privacy.registry import Person, scan

# A message not sent yet to an erased person is never sent.
UNSENT = ("unwritten", "pending", "sending", "failed")
# Staff letters are read this many at a time when looking for mentions of the person.
CHUNK = 200


def export(person: Person) -> dict[str, Any]:
    return {
        "emails": [
            {
                "kind": row.kind,
                "to": row.recipient,
                "subject": row.subject,
                "status": row.status,
                "created_at": iso(row.created_at),
                "sent_at": iso(row.sent_at) if row.sent_at else None,
            }
            for row in db.session.scalars(
                select(OutboxMessage).where(_to(person)).order_by(OutboxMessage.id)
            )
        ]
    }


def erase(person: Person, _now: datetime) -> int:
    touched = 0
    for row in db.session.scalars(select(OutboxMessage).where(_to(person))):
        row.recipient = f"message-{row.id}@{ERASED_DOMAIN}"
        row.subject = person.scrub(row.subject)
        _forget_body(row)
        touched += 1
    letters = scan(
        OutboxMessage,
        OutboxMessage.registration_id.is_(None),
        OutboxMessage.content.is_not(None),
        chunk=CHUNK,
    )
    for row in letters:
        if person.mentioned_in(_readable(row.content or b"")):
            row.subject = person.scrub(row.subject)
            _forget_body(row)
            touched += 1
    return touched


def _to(person: Person) -> Any:
    conditions = [func.lower(OutboxMessage.recipient) == person.email]
    if person.registration_ids:
        conditions.append(OutboxMessage.registration_id.in_(person.registration_ids))
    return or_(*conditions)


def _forget_body(row: OutboxMessage) -> None:
    row.content = None
    row.details = None
    row.last_error = None
    if row.status in UNSENT:
        row.status = "skipped"
    copy = Path(current_app.config["OUTBOX_DIR"]) / f"{eml_name(row.message_id)}.eml"
    copy.unlink(missing_ok=True)


def _readable(content: bytes) -> str:
    """A message's headers and text as a reader sees them (quoted-printable undone)."""
    message = message_from_bytes(content, policy=policy.default)
    pieces = [f"{name}: {value}" for name, value in message.items()]
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                pieces.append(str(part.get_content()))
            except (LookupError, ValueError):
                continue
    return "\n".join(pieces)


def forget_old_bodies(now: datetime) -> int:
    """A worker job: the bodies (and `.eml` copies) of messages sent more than
    `RETAIN_OUTBOX_BODY_DAYS` ago go, a batch per pass; subjects and dates stay."""
    cutoff = now - timedelta(days=current_app.config["RETAIN_OUTBOX_BODY_DAYS"])
    rows = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_(("sent", "skipped", "failed")),
                OutboxMessage.content.is_not(None),
                OutboxMessage.created_at < cutoff,
            )
            .order_by(OutboxMessage.id)
            .limit(current_app.config["RETENTION_BATCH"])
        )
    )
    for row in rows:
        _forget_body(row)
    db.session.commit()
    return len(rows)
