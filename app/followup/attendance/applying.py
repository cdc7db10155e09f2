"""Applying a read report to an event: matching its attendees to registrations (the preview),
then writing minutes, joins and no-shows in one transaction.

Both work on the report as kept in the database (`previews`), a batch of people and a batch of
registrations at a time, with plain rows rather than ORM objects: memory holds one batch
whatever the size of the event or of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, exists, select, update

from app.db import db, utcnow, writing
from app.events.models import Event
from app.followup import signals
from app.followup.attendance.previews import (
    KeptAttendee,
    KeptReport,
    discard,
    keep_report,
    keep_upload,
    take_preview,
)
from app.followup.attendance.reading import BATCH, AttendanceFileError
from app.followup.attendance.report import Attendee, AttendeeReport
from app.registrations.models import WALK_IN, Registration
from app.registrations.walk_ins import WalkIn, record_walk_ins

# Rejoins after a dropped connection, or a second device, make rows whose minutes add up to
# more than anyone could have watched; a webinar also often runs over. Past the longer of the
# planned and the actual duration plus this, the total is cut.
SLACK_MINUTES = 30

# What a report sets on a registration, in the order `_values` gives them.
_ATTENDANCE = ("attended_minutes", "joined_at", "left_at", "questions_asked")
_REGISTRATIONS = Registration.__table__
_NEW = tuple(f"new_{name}" for name in _ATTENDANCE)
_SET_ATTENDANCE = (
    update(_REGISTRATIONS)
    .where(_REGISTRATIONS.c.id == bindparam("registration_id"))
    .values({name: bindparam(new) for name, new in zip(_ATTENDANCE, _NEW, strict=True)})
)
# The columns of a registration that preview and apply read.
_SHOWN = (
    Registration.id,
    Registration.email,
    Registration.email_normalized,
    Registration.first_name,
    Registration.last_name,
    Registration.status,
    *(getattr(Registration, name) for name in _ATTENDANCE),
)


@dataclass
class Listed:
    """A registration as the preview lists it."""

    id: int
    email: str
    email_normalized: str
    full_name: str
    status: str


@dataclass
class Matched:
    """A registration the report places in the room, with what will be written to it."""

    registration: Listed
    minutes: float
    joined_at: datetime | None
    left_at: datetime | None
    questions: int
    capped: bool = False


@dataclass
class Preview:
    """What applying the report would do to the event's registrations: the counts, and the
    first `shown` of each list (all of them when the preview was asked for all)."""

    event: Event
    source: str
    rows: int
    people: int
    counts: dict[str, int]
    matched: list[Matched]
    # In the room but never registered: they become walk-ins (`record_walk_ins`).
    unmatched: list[Attendee]
    no_shows: list[Listed]
    warnings: list[str]
    # The emails in `unmatched` that an earlier report made a walk-in row for.
    walk_ins: set[str] = field(default_factory=set)


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


Report = AttendeeReport | KeptReport


def minutes_cap(event: Event, report: Report) -> float:
    """The most minutes one person can be credited with for this event."""
    return max(float(event.duration_minutes), report.actual_minutes or 0.0) + SLACK_MINUTES


def credited_minutes(person: Attendee, cap: float) -> float:
    return round(min(person.minutes, cap), 2)


def preview_attendance(event: Event, report: Report, shown: int | None = None) -> Preview:
    """Match the report to the event's registrations; changes none of them. A report read in
    memory is kept for as long as the preview takes."""
    if isinstance(report, KeptReport):
        return _preview(event, report, shown)
    with writing():
        kept = keep_report(event, report, None)
        preview = _preview(event, kept, shown)
        discard(kept.id)
    return preview


def _preview(event: Event, report: KeptReport, shown: int | None) -> Preview:
    def room(items: list[Any]) -> bool:
        return shown is None or len(items) < shown

    cap = minutes_cap(event, report)
    counts = {"attended": 0, "no_show": 0, "unmatched": 0}
    matched: list[Matched] = []
    unmatched: list[Attendee] = []
    no_shows: list[Listed] = []
    walk_ins: set[str] = set()
    capped = 0
    for batch in _present(event.id, report.id):
        for person, row in batch:
            capped += person.minutes > cap
            if row is None or row.status == WALK_IN:
                counts["unmatched"] += 1
                if room(unmatched):
                    unmatched.append(person)
                    if row is not None:
                        walk_ins.add(person.email)
                continue
            counts["attended"] += 1
            if room(matched):
                minutes = credited_minutes(person, cap)
                matched.append(
                    Matched(
                        registration=_listed(row),
                        minutes=minutes,
                        joined_at=person.joined_at,
                        left_at=person.left_at,
                        questions=person.questions,
                        capped=person.minutes > cap,
                    )
                )
    for rows in _absent(event.id, report.id):
        for row in rows:
            if row.status == "confirmed":
                counts["no_show"] += 1
                if room(no_shows):
                    no_shows.append(_listed(row))
    warnings = list(report.warnings)
    if capped:
        warnings.append(
            f"{capped} attendee{'s' if capped != 1 else ''} had more minutes than the event "
            f"lasted (overlapping joins); credited with at most {cap:g} minutes."
        )
    warnings.extend(_date_warnings(event, report.first_join()))
    return Preview(
        event=event,
        source=report.source,
        rows=report.rows,
        people=report.people(),
        counts=counts,
        matched=matched,
        unmatched=unmatched,
        no_shows=no_shows,
        warnings=warnings,
        walk_ins=walk_ins,
    )


def _listed(row: Row[Any]) -> Listed:
    return Listed(
        id=row.id,
        email=row.email,
        email_normalized=row.email_normalized,
        full_name=f"{row.first_name} {row.last_name}".strip(),
        status=row.status,
    )


def _present(event_id: int, preview_id: int) -> Iterator[list[tuple[Attendee, Row[Any] | None]]]:
    """The report's people who attended, in email order a batch at a time, each with the
    event's registration for their email (its `_SHOWN` columns; None when there is none)."""
    after: str | None = None
    while True:
        query = select(KeptAttendee.__table__).where(
            KeptAttendee.preview_id == preview_id, KeptAttendee.attended.is_(True)
        )
        if after is not None:
            query = query.where(KeptAttendee.email > after)
        people = db.session.execute(query.order_by(KeptAttendee.email).limit(BATCH)).all()
        if not people:
            return
        after = people[-1].email
        # Looked up by the unique (event, email) index: a join left to PostgreSQL's planner
        # went through every registration of the event for each batch once walk-ins were added.
        registrations = {
            row.email_normalized: row
            for row in db.session.execute(
                select(*_SHOWN).where(
                    Registration.event_id == event_id,
                    Registration.email_normalized.in_([row.email for row in people]),
                )
            )
        }
        yield [(_attendee(row), registrations.get(row.email)) for row in people]


def _attendee(row: Row[Any]) -> Attendee:
    return Attendee(
        email=row.email,
        name=row.name,
        attended=True,
        minutes=row.minutes,
        joined_at=row.joined_at,
        left_at=row.left_at,
        questions=row.questions,
        joins=row.joins,
    )


def _absent(event_id: int, preview_id: int) -> Iterator[list[Row[Any]]]:
    """The event's registrations whose email is not among the report's attendees, in id order
    a batch at a time."""
    there = exists().where(
        KeptAttendee.preview_id == preview_id,
        KeptAttendee.attended.is_(True),
        KeptAttendee.email == Registration.email_normalized,
    )
    after = 0
    while True:
        rows = db.session.execute(
            select(*_SHOWN)
            .where(Registration.event_id == event_id, Registration.id > after, ~there)
            .order_by(Registration.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        yield list(rows)


def _date_warnings(event: Event, first: datetime | None) -> list[str]:
    if first is None or abs(first - event.starts_at) <= timedelta(days=1):
        return []
    local = first.astimezone(ZoneInfo(event.timezone))
    starts = event.starts_at.astimezone(ZoneInfo(event.timezone))
    return [
        f"The first join in the report is on {local:%d %b %Y}, but the event starts on "
        f"{starts:%d %b %Y}: check that this is the report for this event."
    ]


def apply_attendance(event: Event, report: Report, now: datetime | None = None) -> ImportSummary:
    """Write the report to the event's registrations in one transaction.

    Values are set, never added: the event's attendance is what the last applied report says,
    so applying the same report twice changes nothing. Attendees get their minutes, first join,
    last leave and questions; people there who never registered get a walk-in registration
    (once) with theirs; confirmed registrants who were not there get 0 minutes (a no-show);
    everyone else's attendance becomes unknown. A kept report is deleted with the commit.
    """
    with writing():
        kept = report if isinstance(report, KeptReport) else keep_report(event, report, None)
        return _apply(event.id, kept, now or utcnow())


def apply_preview(
    event: Event, owner_id: int, token: str, now: datetime | None = None
) -> ImportSummary | None:
    """Apply the console preview `token` of `owner_id` (`take_preview`); None when there is
    none to apply (expired, applied already, another person's)."""
    with writing():
        kept = take_preview(event, owner_id, token)
        if kept is None:
            return None
        return _apply(event.id, kept, now or utcnow())


def _apply(event_id: int, report: KeptReport, now: datetime) -> ImportSummary:
    # Two imports of one event take turns: the second waits for the first's commit.
    locked = db.session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(of=Event)
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        raise AttendanceFileError("This event no longer exists.")
    cap = minutes_cap(locked, report)
    changed = False
    no_show = 0
    # The absent first: a walk-in made below is in the report, never absent.
    for rows in _absent(event_id, report.id):
        confirmed = [row for row in rows if row.status == "confirmed"]
        no_show += len(confirmed)
        changed |= _write(
            [(row, (0.0, None, None, 0)) for row in confirmed]
            + [(row, (None, None, None, 0)) for row in rows if row.status != "confirmed"]
        )
    attended = unmatched = 0
    for batch in _present(event_id, report.id):
        writes = []
        newcomers: dict[str, Attendee] = {}
        for person, row in batch:
            if row is None:
                newcomers[person.email] = person
            else:
                writes.append((row, _values(person, cap)))
            if row is None or row.status == WALK_IN:
                unmatched += 1
            else:
                attended += 1
        changed |= _write(writes)
        changed |= _record_walk_ins(locked, list(newcomers.values()), cap, now)
    # The time of the import that last changed something: routing waits for it, and the
    # same report applied again is not news.
    if changed or locked.attendance_imported_at is None:
        locked.attendance_imported_at = now
    summary = ImportSummary(
        attended=attended,
        no_show=no_show,
        unmatched=unmatched,
        source=report.source,
        imported_at=locked.attendance_imported_at,
    )
    discard(report.id)
    signals.attendance_applied.send(locked, summary=summary)
    return summary


def _values(person: Attendee, cap: float) -> tuple[Any, ...]:
    """What the report sets on a person's registration, in `_ATTENDANCE`'s order."""
    return (credited_minutes(person, cap), person.joined_at, person.left_at, person.questions)


def _record_walk_ins(event: Event, people: list[Attendee], cap: float, now: datetime) -> bool:
    """Give each unregistered attendee a walk-in row holding their attendance; True when one
    was made or changed."""
    if not people:
        return False
    recorded = record_walk_ins(
        event,
        [
            WalkIn(
                person.email, person.name, dict(zip(_ATTENDANCE, _values(person, cap), strict=True))
            )
            for person in people
        ],
        now,
    )
    if not recorded.existing:
        return recorded.created > 0
    # Registered under another spelling of the address, or meanwhile: their row is set too.
    by_id = {registration_id: email for email, registration_id in recorded.existing.items()}
    people_by_email = {person.email: person for person in people}
    rows = db.session.execute(select(*_SHOWN).where(Registration.id.in_(by_id))).all()
    writes = [(row, _values(people_by_email[by_id[row.id]], cap)) for row in rows]
    return _write(writes) or recorded.created > 0


def _write(writes: list[tuple[Any, tuple[Any, ...]]]) -> bool:
    """Set the attendance columns of each row to its values, in one statement for those that
    change; True when any did. Rows whose values are already these are not written, so a
    repeated import leaves them (and their `updated_at`) alone."""
    changes = [
        {"registration_id": row.id, **dict(zip(_NEW, values, strict=True))}
        for row, values in writes
        if (row.attended_minutes, row.joined_at, row.left_at, row.questions_asked) != values
    ]
    if changes:
        db.session.execute(_SET_ATTENDANCE, changes)
    return bool(changes)


def import_attendance(
    event: Event, stream: IO[bytes], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Read and apply in one call, for the faces without a preview step (API, CLI): the file
    is kept in the database as it is read, then applied from there."""
    kept = keep_upload(event, stream, None, progress)
    try:
        return apply_attendance(event, kept)
    except BaseException:
        with writing():
            discard(kept.id)
        raise
