"""What the console's tables read: events with their counts, a page of registrations, CSV rows.

Every listing runs a fixed number of queries whatever the number of rows, and the export
reads in batches so its memory does not grow with the event's size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, ColumnExpressionArgument, case, func, select

from app.db import db, utcnow
from app.events.models import Event
from app.inputs import query_int
from app.registrations.answers import answer_text
from app.registrations.models import REGISTRATION_STATUSES, WALK_IN, Registration
from app.registrations.questions import questions_of
from app.registrations.search import registration_matches, search_text
from app.spreadsheet import csv_writer, safe_cell

PAGE_SIZE = 50
PAST_PAGE_SIZE = 25
EXPORT_BATCH = 1000


@dataclass
class Counts:
    registered: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    attended: int = 0


@dataclass
class EventRow:
    event: Event
    counts: Counts


@dataclass
class EventList:
    upcoming: list[EventRow]
    past: list[EventRow]
    past_page: int
    past_pages: int


def _counted(condition: ColumnExpressionArgument[bool]) -> Any:
    return func.count(case((condition, 1)))


def counts_by_event(event_ids: Sequence[int]) -> dict[int, Counts]:
    """Registered (not cancelled, not walk-ins), confirmed, waitlisted and attended (walk-ins
    too), per event, in one query."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(
            Registration.event_id,
            _counted(Registration.status.not_in(("cancelled", WALK_IN))),
            _counted(Registration.status == "confirmed"),
            _counted(Registration.status == "waitlisted"),
            _counted(Registration.attended),
        )
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id)
    )
    return {row[0]: Counts(*row[1:]) for row in rows}


def event_list(past_page: int = 1, now: datetime | None = None) -> EventList:
    """Events not yet ended (soonest first) and a page of ended ones (latest first)."""
    now = now or utcnow()
    upcoming = list(
        db.session.scalars(select(Event).where(Event.ends_at > now).order_by(Event.starts_at))
    )
    past_total = db.session.scalar(select(func.count()).where(Event.ends_at <= now)) or 0
    past_pages = max(ceil(past_total / PAST_PAGE_SIZE), 1)
    past_page = min(max(past_page, 1), past_pages)
    past = list(
        db.session.scalars(
            select(Event)
            .where(Event.ends_at <= now)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(PAST_PAGE_SIZE)
            .offset((past_page - 1) * PAST_PAGE_SIZE)
        )
    )
    counts = counts_by_event([event.id for event in upcoming + past])

    def rows(events: list[Event]) -> list[EventRow]:
        return [EventRow(event, counts.get(event.id, Counts())) for event in events]

    return EventList(rows(upcoming), rows(past), past_page, past_pages)


SORTS: dict[str, tuple[Any, ...]] = {
    "registered": (Registration.created_at,),
    "name": (Registration.last_name, Registration.first_name),
    "email": (Registration.email_normalized,),
    "company": (Registration.company,),
    "status": (Registration.status,),
}


@dataclass
class RegistrationQuery:
    """What the table shows: a search, a status filter, a sort and a page, from the URL."""

    search: str = ""
    status: str = ""
    sort: str = "registered"
    descending: bool = True
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> RegistrationQuery:
        status = args.get("status", "")
        sort = args.get("sort", "registered")
        return cls(
            search=search_text(args.get("q")),
            status=status if status in REGISTRATION_STATUSES else "",
            sort=sort if sort in SORTS else "registered",
            descending=args.get("dir", "desc" if sort == "registered" else "asc") == "desc",
            page=query_int(args, "page", 1),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments for this view with some changed (links to sort, filter and page)."""
        values = {
            "q": self.search,
            "status": self.status,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
            "page": self.page,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None, 1)}

    def conditions(self, event_id: int) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Registration.event_id == event_id]
        if self.status:
            found.append(Registration.status == self.status)
        if self.search:
            found.append(registration_matches(self.search))
        return found

    def order(self) -> list[Any]:
        columns = [*SORTS[self.sort], Registration.id]
        return [column.desc() if self.descending else column.asc() for column in columns]


@dataclass
class RegistrationPage:
    items: list[Registration]
    total: int
    page: int
    pages: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.items)


def registration_page(event: Event, query: RegistrationQuery) -> RegistrationPage:
    """One page of an event's registrations: three queries however many there are."""
    conditions = query.conditions(event.id)
    total = db.session.scalar(select(func.count(Registration.id)).where(*conditions)) or 0
    pages = max(ceil(total / PAGE_SIZE), 1)
    page = min(max(query.page, 1), pages)
    items = list(
        db.session.scalars(
            select(Registration)
            .where(*conditions)
            .order_by(*query.order())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    by_status = {
        status: count
        for status, count in db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        )
    }
    return RegistrationPage(items, total, page, pages, by_status)


OTHER_ANSWERS = "other answers"
EXPORT_COLUMNS = (
    ("id", Registration.id),
    ("registered_at", Registration.created_at),
    ("status", Registration.status),
    ("email", Registration.email),
    ("first_name", Registration.first_name),
    ("last_name", Registration.last_name),
    ("company", Registration.company),
    ("job_title", Registration.job_title),
    ("country", Registration.country),
    ("phone", Registration.phone),
    ("utm_source", Registration.utm_source),
    ("utm_medium", Registration.utm_medium),
    ("utm_campaign", Registration.utm_campaign),
    ("consent_marketing", Registration.consent_marketing),
    ("checked_in_at", Registration.checked_in_at),
    ("attended_minutes", Registration.attended_minutes),
    ("cancelled_at", Registration.cancelled_at),
)


def spreadsheet_safe(value: Any) -> str:
    """The cell as text (yes/no, ISO times), safe to open in a spreadsheet (see `safe_cell`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_cell(value)


def export_csv(event: Event, query: RegistrationQuery) -> Iterator[str]:
    """The registrations the table shows (all pages), as CSV text in chunks of a batch each.

    The rows are read `EXPORT_BATCH` at a time (a server-side cursor on PostgreSQL), so a
    50,000-row export holds one batch in memory, not the whole event.
    """
    buffer = io.StringIO()
    writer = csv_writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    # One column per question, headed by its label; answers no question asks any more (or
    # given to an event without questions) share the last column, under their keys.
    questions = questions_of(event.id)
    asked = [question.key for question in questions]
    # The byte-order mark lets Excel read the file as UTF-8.
    writer.writerow(
        [name for name, _column in EXPORT_COLUMNS]
        + [safe_cell(question.label) for question in questions]
        + [OTHER_ANSWERS]
    )
    yield "\ufeff" + flush()
    result = db.session.execute(
        select(*(column for _name, column in EXPORT_COLUMNS), Registration.answers)
        .where(*query.conditions(event.id))
        .order_by(Registration.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for batch in result.partitions():
        writer.writerows(
            [spreadsheet_safe(value) for value in row[:-1]] + _answer_cells(asked, row[-1])
            for row in batch
        )
        yield flush()


def _answer_cells(asked: list[str], answers: dict[str, Any] | None) -> list[str]:
    answers = answers or {}
    others = "; ".join(
        f"{key}: {answer_text(value)}" for key, value in answers.items() if key not in asked
    )
    return [safe_cell(answer_text(answers.get(key))) for key in asked] + [safe_cell(others)]
