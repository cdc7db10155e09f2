"""What the webinar platform tests (Zoom's and GoTo's) read back: a registration's sync row,
fresh from the database, and the plain text of a sent email."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from app.db import db
from app.platforms.models import RegistrantSync
from app.registrations.models import Registration


def sync_of(registration: Registration) -> RegistrantSync:
    row = db.session.scalar(
        select(RegistrantSync)
        .where(RegistrantSync.registration_id == registration.id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
