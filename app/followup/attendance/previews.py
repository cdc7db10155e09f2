"""Attendance previews kept between "upload" and "apply": the parsed report in the database,
tied to its event and to whoever uploaded it, for an hour. In the database, not on one host's
disk, so the upload may reach one web host and the "Apply" click another."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, db, rows_changed, utcnow, writing
from app.events.models import Event
from app.followup.attendance.report import AttendeeReport
from app.models import User
from app.privacy.registry import Person, scan

# A preview is applied within the hour or uploaded again; older ones are swept away.
PREVIEW_LIFETIME = timedelta(hours=1)


class AttendancePreview(Model):
    """A read report waiting for its uploader's "Apply"; taken (deleted) when applied."""

    __tablename__ = "attendance_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the preview page's form sends back: random, so no one guesses another's preview.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey(Event.id, ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"), index=True)
    # AttendeeReport.to_json(): names and addresses of the people in the report.
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def keep_preview(event: Event, owner_id: int, report: AttendeeReport) -> str:
    """Keep `report` for `owner_id` to apply to `event`; the token that names it."""
    now = utcnow()
    token = secrets.token_urlsafe(24)
    with writing():
        _sweep(now)
        db.session.add(
            AttendancePreview(
                token=token,
                event_id=event.id,
                owner_id=owner_id,
                report=report.to_json(),
                created_at=now,
                expires_at=now + PREVIEW_LIFETIME,
            )
        )
    return token


def take_preview(event: Event, owner_id: int, token: str) -> AttendeeReport | None:
    """The kept report for this event and this owner, deleted in the same statement, so two
    clicks on "Apply" (on one host or two) cannot both take it. None when there is none (never
    kept, applied already, expired, another person's or another event's)."""
    with writing():
        taken = db.session.execute(
            delete(AttendancePreview)
            .where(
                AttendancePreview.token == token,
                AttendancePreview.event_id == event.id,
                AttendancePreview.owner_id == owner_id,
                AttendancePreview.expires_at > utcnow(),
            )
            .returning(AttendancePreview.report)
        ).first()
    return AttendeeReport.from_json(taken[0]) if taken is not None else None


def expire_previews(now: datetime) -> int:
    """The worker's job: previews nobody applied in time go (names and addresses with them)."""
    with writing():
        return _sweep(now)


def _sweep(now: datetime) -> int:
    return rows_changed(delete(AttendancePreview).where(AttendancePreview.expires_at <= now))


def forget_previews_of(person: Person, _now: datetime) -> int:
    """Privacy's eraser for kept previews: any that names the person is deleted."""
    named = [row.id for row in scan(AttendancePreview) if person.mentioned_in(_text(row))]
    if not named:
        return 0
    return rows_changed(
        delete(AttendancePreview)
        .where(AttendancePreview.id.in_(named))
        .execution_options(synchronize_session=False)
    )


def _text(row: AttendancePreview) -> str:
    # The report as text, accents as typed, for the person's names and addresses to be found.
    return json.dumps(row.report, ensure_ascii=False)
