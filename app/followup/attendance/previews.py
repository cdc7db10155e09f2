"""Attendance reports kept in the database between reading and applying: the console's preview
waiting for "Apply" (tied to its event and to whoever uploaded it, for an hour), and any report
while it is applied. One row per person, written a batch at a time as the file is read, so no
step holds the whole report in memory; in the database, not on one host's disk, so the upload
may reach one web host and the "Apply" click another."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, db, rows_changed, upsert, utcnow, writing
from app.events.models import Event
from app.followup.attendance.reading import BATCH, read_report_in_batches
from app.followup.attendance.report import Attendee, AttendeeReport
from app.models import User
from app.privacy.registry import Person, scan

# A preview is applied within the hour or uploaded again; older ones are swept away.
PREVIEW_LIFETIME = timedelta(hours=1)


class AttendancePreview(Model):
    """A read report: what the file says as a whole; its people are KeptAttendee rows. A
    console preview waits for its owner's "Apply" and is taken (deleted) when applied; a report
    applied at once (the API, the CLI, a platform's pull) has no owner and lives only as long
    as the apply."""

    __tablename__ = "attendance_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the preview page's form sends back: random, so no one guesses another's preview.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey(Event.id, ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey(User.id, ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(default=0)
    actual_minutes: Mapped[float | None] = mapped_column(Float)
    # The reader's notes (they may quote a cell, so they may name someone).
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KeptAttendee(Model):
    """One person of a kept report: every join for their email taken together (`Attendee`)."""

    __tablename__ = "attendance_preview_attendees"
    __table_args__ = (
        UniqueConstraint("preview_id", "email", name="uq_attendance_preview_attendees_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[int] = mapped_column(ForeignKey(AttendancePreview.id, ondelete="CASCADE"))
    # Lower case, as the report's cell said it; no length is promised by any report.
    email: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, default="")
    attended: Mapped[bool] = mapped_column(default=False)
    minutes: Mapped[float] = mapped_column(Float, default=0.0)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    questions: Mapped[int] = mapped_column(default=0)
    joins: Mapped[int] = mapped_column(default=0)


_KEPT = "attendance_preview_attendees"
# A person met again in a later batch: their joins are added to the kept ones, as
# `Attendee.add_join` adds them (the earliest join, the latest leave, the first name given).
_ADD_JOINS = ", ".join(
    [
        f"name = CASE WHEN {_KEPT}.name = '' THEN excluded.name ELSE {_KEPT}.name END",
        f"attended = ({_KEPT}.attended OR excluded.attended)",
        f"minutes = {_KEPT}.minutes + excluded.minutes",
        f"joined_at = CASE WHEN {_KEPT}.joined_at IS NULL OR excluded.joined_at < "
        f"{_KEPT}.joined_at THEN excluded.joined_at ELSE {_KEPT}.joined_at END",
        f"left_at = CASE WHEN {_KEPT}.left_at IS NULL OR excluded.left_at > "
        f"{_KEPT}.left_at THEN excluded.left_at ELSE {_KEPT}.left_at END",
        f"questions = {_KEPT}.questions + excluded.questions",
        f"joins = {_KEPT}.joins + excluded.joins",
    ]
)


@dataclass
class KeptReport:
    """A report in the database (an AttendancePreview's columns): what preview and apply read."""

    id: int
    # What the preview page's form sends back to apply it.
    token: str
    event_id: int
    source: str
    rows: int
    actual_minutes: float | None
    warnings: list[str]

    def people(self) -> int:
        return (
            db.session.scalar(select(db.func.count()).where(KeptAttendee.preview_id == self.id))
            or 0
        )

    def first_join(self) -> datetime | None:
        """The earliest join of anyone in the report."""
        return db.session.scalar(
            select(db.func.min(KeptAttendee.joined_at)).where(KeptAttendee.preview_id == self.id)
        )

    @classmethod
    def of(cls, preview: AttendancePreview) -> KeptReport:
        return cls(
            id=preview.id,
            token=preview.token,
            event_id=preview.event_id,
            source=preview.source,
            rows=preview.rows,
            actual_minutes=preview.actual_minutes,
            warnings=list(preview.warnings or []),
        )


def keep_upload(
    event: Event,
    stream: IO[bytes],
    owner_id: int | None,
    progress: Callable[[int], None] | None = None,
) -> KeptReport:
    """Read an uploaded report into the database as it streams in, a batch of people per
    transaction; nothing is kept when the file is refused (AttendanceFileError)."""
    with writing():
        preview = _new_preview(event, owner_id, utcnow())
    preview_id = preview.id

    def keep(people: list[Attendee]) -> None:
        with writing():
            add_attendees(preview_id, people)

    try:
        report = read_report_in_batches(stream, event, keep, progress)
    except BaseException:
        with writing():
            discard(preview_id)
        raise
    with writing():
        return _describe(preview_id, report)


def keep_report(event: Event, report: AttendeeReport, owner_id: int | None) -> KeptReport:
    """Keep a report already read (a platform's answer, a small file) inside the caller's
    transaction."""
    preview = _new_preview(event, owner_id, utcnow())
    people = list(report.attendees.values())
    for start in range(0, len(people), BATCH):
        add_attendees(preview.id, people[start : start + BATCH])
    return _describe(preview.id, report)


def _new_preview(event: Event, owner_id: int | None, now: datetime) -> AttendancePreview:
    _sweep(now)
    preview = AttendancePreview(
        token=secrets.token_urlsafe(24),
        event_id=event.id,
        owner_id=owner_id,
        source="",
        rows=0,
        warnings=[],
        created_at=now,
        expires_at=now + PREVIEW_LIFETIME,
    )
    db.session.add(preview)
    db.session.flush()
    return preview


def _describe(preview_id: int, report: AttendeeReport) -> KeptReport:
    values = {
        "source": report.source,
        "rows": report.rows,
        "actual_minutes": report.actual_minutes,
        "warnings": list(report.warnings),
    }
    db.session.execute(
        sql_update(AttendancePreview).where(AttendancePreview.id == preview_id).values(**values)
    )
    preview = db.session.get(AttendancePreview, preview_id, populate_existing=True)
    assert preview is not None  # written in this transaction or a committed one before it
    kept = KeptReport.of(preview)
    db.session.expunge(preview)
    return kept


def add_attendees(preview_id: int, people: list[Attendee]) -> None:
    """Add a batch of people (each email once) to the kept report, merging their joins into
    those an earlier batch kept for the same email."""
    if not people:
        return
    db.session.execute(
        upsert(KeptAttendee.__table__, ("preview_id", "email"), _ADD_JOINS, "id"),
        [
            {
                "preview_id": preview_id,
                "email": person.email,
                "name": person.name,
                "attended": person.attended,
                "minutes": person.minutes,
                "joined_at": person.joined_at,
                "left_at": person.left_at,
                "questions": person.questions,
                "joins": person.joins,
            }
            for person in people
        ],
    )


def take_preview(event: Event, owner_id: int, token: str) -> KeptReport | None:
    """Claim the kept report for this event and this owner inside the caller's transaction
    (it is deleted when the apply commits: see `discard`), so two clicks on "Apply" (on one
    host or two) cannot both take it. None when there is none (never kept, applied already,
    expired, another person's or another event's)."""
    now = utcnow()
    claimed = db.session.scalar(
        sql_update(AttendancePreview)
        .where(
            AttendancePreview.token == token,
            AttendancePreview.event_id == event.id,
            AttendancePreview.owner_id == owner_id,
            AttendancePreview.expires_at > now,
        )
        .values(expires_at=now)
        .returning(AttendancePreview.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        return None
    preview = db.session.get(AttendancePreview, claimed, populate_existing=True)
    assert preview is not None  # claimed by this transaction
    kept = KeptReport.of(preview)
    db.session.expunge(preview)
    return kept


def discard(preview_id: int) -> None:
    """Delete a kept report and its people."""
    db.session.execute(
        delete(KeptAttendee)
        .where(KeptAttendee.preview_id == preview_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(AttendancePreview)
        .where(AttendancePreview.id == preview_id)
        .execution_options(synchronize_session=False)
    )


def expire_previews(now: datetime) -> int:
    """The worker's job: previews nobody applied in time go (names and addresses with them)."""
    with writing():
        return _sweep(now)


def _sweep(now: datetime) -> int:
    expired = select(AttendancePreview.id).where(AttendancePreview.expires_at <= now)
    db.session.execute(
        delete(KeptAttendee)
        .where(KeptAttendee.preview_id.in_(expired))
        .execution_options(synchronize_session=False)
    )
    return rows_changed(
        delete(AttendancePreview)
        .where(AttendancePreview.expires_at <= now)
        .execution_options(synchronize_session=False)
    )


def forget_previews_of(person: Person, _now: datetime) -> int:
    """Privacy's eraser for kept reports: any that names the person is deleted."""
    named = {row.id for row in scan(AttendancePreview) if person.mentioned_in(_notes(row))}
    named |= {row.preview_id for row in scan(KeptAttendee) if person.mentioned_in(_text(row))}
    for preview_id in named:
        discard(preview_id)
    return len(named)


def _notes(row: AttendancePreview) -> str:
    return "\n".join(row.warnings or [])


def _text(row: KeptAttendee) -> str:
    return f"{row.email}\n{row.name}"
