"""Applying a read report to an event: matching its attendees to registrations (the preview),
then writing minutes, joins and no-shows in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db import db, utcnow, writing
from app.events.models import Event
from app.followup import signals
from app.followup.attendance.reading import AttendanceFileError, read_report
from app.followup.attendance.report import Attendee, AttendeeReport
from app.registrations.models import WALK_IN, Registration
from app.registrations.services import record_walk_in

# Rejoins after a dropped connection, or a second device, make rows whose minutes add up to
# more than anyone could have watched; a webinar also often runs over. Past the longer of the
# planned and the actual duration plus this, the total is cut.
SLACK_MINUTES = 30


@dataclass
class Matched:
    """A registration the report places in the room, with what will be written to it."""

    registration: Registration
    minutes: float
    joined_at: datetime | None
    left_at: datetime | None
    questions: int
    capped: bool = False


@dataclass
class Preview:
    """What applying the report would do to the event's registrations."""

    event: Event
    report: AttendeeReport
    matched: list[Matched]
    # In the room but never registered: they become walk-ins (`record_walk_in`).
    unmatched: list[Attendee]
    no_shows: list[Registration]
    # Registrations neither in the room nor holding a seat: their attendance becomes unknown.
    cleared: list[Registration]
    warnings: list[str]
    # The walk-in rows an earlier report created for people in `unmatched`, by email.
    walk_ins: dict[str, Registration] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "attended": len(self.matched),
            "no_show": len(self.no_shows),
            "unmatched": len(self.unmatched),
        }


@dataclass
class ImportSummary:
    """What an applied report changed, as the API answers it."""

    attended: int
    no_show: int
    unmatched: int
    source: str
    imported_at: datetime

    def counts(self) -> dict[str, int]:
        return {"attended": self.attended, "no_show": self.no_show, "unmatched": self.unmatched}


def minutes_cap(event: Event, report: AttendeeReport) -> float:
    """The most minutes one person can be credited with for this event."""
    return max(float(event.duration_minutes), report.actual_minutes or 0.0) + SLACK_MINUTES


def credited_minutes(person: Attendee, cap: float) -> float:
    return round(min(person.minutes, cap), 2)


def preview_attendance(event: Event, report: AttendeeReport) -> Preview:
    """Match the report to the event's registrations (one query); writes nothing."""
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.email_normalized)
    ).all()
    by_email = {registration.email_normalized: registration for registration in registrations}
    cap = minutes_cap(event, report)
    matched: list[Matched] = []
    capped = 0
    unmatched: list[Attendee] = []
    walk_ins: dict[str, Registration] = {}
    for email, person in sorted(report.attendees.items()):
        registration = by_email.get(email)
        if not person.attended:
            continue
        capped += person.minutes > cap
        if registration is None or registration.status == WALK_IN:
            unmatched.append(person)
            if registration is not None:
                walk_ins[email] = registration
            continue
        minutes = credited_minutes(person, cap)
        matched.append(
            Matched(
                registration=registration,
                minutes=minutes,
                joined_at=person.joined_at,
                left_at=person.left_at,
                questions=person.questions,
                capped=person.minutes > cap,
            )
        )
    present = {item.registration.id for item in matched}
    present |= {registration.id for registration in walk_ins.values()}
    absent = [registration for registration in registrations if registration.id not in present]
    warnings = list(report.warnings)
    if capped:
        warnings.append(
            f"{capped} attendee{'s' if capped != 1 else ''} had more minutes than the event "
            f"lasted (overlapping joins); credited with at most {cap:g} minutes."
        )
    warnings.extend(_date_warnings(event, report))
    return Preview(
        event=event,
        report=report,
        matched=matched,
        unmatched=unmatched,
        no_shows=[item for item in absent if item.status == "confirmed"],
        cleared=[item for item in absent if item.status != "confirmed"],
        warnings=warnings,
        walk_ins=walk_ins,
    )


def _date_warnings(event: Event, report: AttendeeReport) -> list[str]:
    joins = [person.joined_at for person in report.attendees.values() if person.joined_at]
    if not joins:
        return []
    first = min(joins)
    if abs(first - event.starts_at) <= timedelta(days=1):
        return []
    local = first.astimezone(ZoneInfo(event.timezone))
    starts = event.starts_at.astimezone(ZoneInfo(event.timezone))
    return [
        f"The first join in the report is on {local:%d %b %Y}, but the event starts on "
        f"{starts:%d %b %Y}: check that this is the report for this event."
    ]


def apply_attendance(
    event: Event, report: AttendeeReport, now: datetime | None = None
) -> ImportSummary:
    """Write the report to the event's registrations in one transaction.

    Values are set, never added: the event's attendance is what the last applied report says,
    so applying the same report twice changes nothing. Attendees get their minutes, first join,
    last leave and questions; people there who never registered get a walk-in registration
    (once) with theirs; confirmed registrants who were not there get 0 minutes (a no-show);
    everyone else's attendance becomes unknown.
    """
    event_id = event.id
    with writing():
        # Two imports of one event take turns: the second waits for the first's commit.
        locked = db.session.scalars(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update(of=Event)
            .execution_options(populate_existing=True)
        ).first()
        if locked is None:
            raise AttendanceFileError("This event no longer exists.")
        preview = preview_attendance(locked, report)
        changed = [
            _set(item.registration, item.minutes, item.joined_at, item.left_at, item.questions)
            for item in preview.matched
        ]
        changed += _record_walk_ins(locked, preview, now or utcnow())
        changed += [_set(registration, 0.0, None, None, 0) for registration in preview.no_shows]
        changed += [_set(registration, None, None, None, 0) for registration in preview.cleared]
        # The time of the import that last changed something: routing waits for it, and the
        # same report applied again is not news.
        if any(changed) or locked.attendance_imported_at is None:
            locked.attendance_imported_at = now or utcnow()
        summary = ImportSummary(
            attended=len(preview.matched),
            no_show=len(preview.no_shows),
            unmatched=len(preview.unmatched),
            source=report.source,
            imported_at=locked.attendance_imported_at,
        )
        signals.attendance_applied.send(locked, summary=summary)
    return summary


def _record_walk_ins(event: Event, preview: Preview, now: datetime) -> list[bool]:
    """Credit each unregistered attendee's walk-in row, creating it the first time."""
    cap = minutes_cap(event, preview.report)
    changed = []
    for person in preview.unmatched:
        registration = preview.walk_ins.get(person.email)
        if registration is None:
            registration = record_walk_in(event, person.email, person.name, now)
            if registration is None:
                continue
            changed.append(True)
        minutes = credited_minutes(person, cap)
        changed.append(
            _set(registration, minutes, person.joined_at, person.left_at, person.questions)
        )
    return changed


def _set(
    registration: Registration,
    minutes: float | None,
    joined_at: datetime | None,
    left_at: datetime | None,
    questions: int,
) -> bool:
    """Set the attendance fields; True when one of them changed."""
    values = {
        "attended_minutes": minutes,
        "joined_at": joined_at,
        "left_at": left_at,
        "questions_asked": questions,
    }
    changed = False
    for name, value in values.items():
        # Assigning an equal value would still mark the row dirty; a repeat import writes nothing.
        if getattr(registration, name) != value:
            setattr(registration, name, value)
            changed = True
    return changed


def import_attendance(
    event: Event, stream: IO[bytes], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Read and apply in one call, for the faces without a preview step (API, CLI)."""
    return apply_attendance(event, read_report(stream, event, progress))
