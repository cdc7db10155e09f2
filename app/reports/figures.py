"""The numbers behind the console's reports, per event and per campaign, each a grouped query.

Every stage counts people (distinct leads), so a campaign's funnel does not count twice someone
who registered for two of its events. Followed up, qualified and converted read the lead's
status, which belongs to the person rather than to one event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnExpressionArgument, and_, case, distinct, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.db import db
from app.events.models import Campaign, Event
from app.registrations.models import WALK_IN, Lead, Registration, SourceLink

# Lead statuses that mean a rep has been in touch: "contacted" and every later step.
FOLLOWED_UP = ("contacted", "qualified", "disqualified", "converted")
QUALIFIED = ("qualified", "converted")
CONVERTED = ("converted",)
# The same definition as the console's event tables (app/admin/tables.py), so that the numbers
# agree: "registered" leaves out cancellations and walk-ins (they never registered). "Attended"
# is `Registration.attended` in both, walk-ins included.
REGISTERED = Registration.status.not_in(("cancelled", WALK_IN))

STAGES = (
    ("registered", "Registered"),
    ("confirmed", "Confirmed"),
    ("attended", "Attended"),
    ("followed_up", "Followed up"),
    ("qualified", "Qualified"),
    ("converted", "Converted"),
)

# Past this many days, registrations are counted per week so the bars stay readable.
_DAILY_UP_TO = 45
NO_VALUE = "(none)"


@dataclass(frozen=True)
class Funnel:
    registered: int
    confirmed: int
    attended: int
    followed_up: int
    qualified: int
    converted: int
    # Confirmed people at the events whose attendance has been imported: the rate's base.
    confirmed_with_attendance: int

    def stages(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in STAGES]

    @property
    def attendance_rate(self) -> float | None:
        """Attended / confirmed, over the events with attendance; None before any import."""
        if not self.confirmed_with_attendance:
            return None
        return self.attended / self.confirmed_with_attendance


@dataclass(frozen=True)
class Period:
    """Registrations that arrived in one day (or one week, for long campaigns)."""

    starts: date
    label: str
    count: int


@dataclass(frozen=True)
class SourceRow:
    source: str
    medium: str
    registered: int
    confirmed: int
    attended: int


@dataclass(frozen=True)
class LinkRow:
    """One source link of the event: who opened it, and what became of those who registered."""

    name: str
    utm_source: str
    utm_medium: str
    visits: int
    registered: int
    attended: int
    qualified: int


@dataclass(frozen=True)
class Report:
    title: str
    zone: str
    events: list[Event]
    funnel: Funnel
    periods: list[Period]
    per_week: bool
    sources: list[SourceRow]
    events_with_attendance: int
    links: list[LinkRow] = field(default_factory=list)

    @property
    def attendance_rate(self) -> float | None:
        return self.funnel.attendance_rate


@dataclass(frozen=True)
class EventLine:
    """One event in the overview: its registrations, attendees and rate."""

    event: Event
    registered: int
    confirmed: int
    attended: int

    @property
    def attendance_rate(self) -> float | None:
        """None while nothing says who came (no import, no check-in)."""
        known = self.event.attendance_imported_at is not None or self.attended
        if not known or not self.confirmed:
            return None
        return self.attended / self.confirmed


@dataclass(frozen=True)
class CampaignLine:
    """One campaign in the overview: its events, and its people (each counted once)."""

    campaign: Campaign
    events: list[EventLine]
    registered: int
    attended: int


def event_report(event: Event) -> Report:
    report = _report(event.title, [event], event.timezone)
    return replace(report, links=by_link(event.id))


def campaign_report(campaign: Campaign) -> Report:
    events = list(
        db.session.scalars(
            select(Event).where(Event.campaign_id == campaign.id).order_by(Event.starts_at)
        )
    )
    zone = events[0].timezone if events else "UTC"
    return _report(campaign.name, events, zone)


def _report(title: str, events: list[Event], zone: str) -> Report:
    ids = [event.id for event in events]
    known = events_with_attendance(ids)
    periods, per_week = registrations_over_time(ids, zone)
    return Report(
        title=title,
        zone=zone,
        events=events,
        funnel=funnel(ids, known),
        periods=periods,
        per_week=per_week,
        sources=by_source(ids),
        events_with_attendance=len(known),
    )


def _people_where(condition: ColumnExpressionArgument[bool]) -> ColumnElement[int]:
    return func.count(distinct(case((condition, Registration.lead_id))))


def events_with_attendance(event_ids: list[int]) -> set[int]:
    """Events whose attendance is known: a report was imported or someone was checked in."""
    if not event_ids:
        return set()
    checked_in = (
        select(Registration.event_id)
        .where(Registration.event_id == Event.id, Registration.checked_in_at.is_not(None))
        .exists()
    )
    return set(
        db.session.scalars(
            select(Event.id).where(
                Event.id.in_(event_ids),
                or_(Event.attendance_imported_at.is_not(None), checked_in),
            )
        )
    )


def funnel(event_ids: list[int], known: set[int]) -> Funnel:
    """Every stage of the funnel for these events in one grouped query; `known`: the events
    whose attendance is known, whose confirmed registrants are the attendance rate's base."""
    if not event_ids:
        return Funnel(0, 0, 0, 0, 0, 0, 0)
    registered = REGISTERED
    confirmed = Registration.status == "confirmed"
    row = db.session.execute(
        select(
            _people_where(registered),
            _people_where(confirmed),
            _people_where(Registration.attended),
            _people_where(and_(registered, Lead.status.in_(FOLLOWED_UP))),
            _people_where(and_(registered, Lead.status.in_(QUALIFIED))),
            _people_where(and_(registered, Lead.status.in_(CONVERTED))),
            _people_where(and_(confirmed, Registration.event_id.in_(sorted(known) or [-1]))),
        )
        .select_from(Registration)
        .join(Lead, Lead.id == Registration.lead_id)
        .where(Registration.event_id.in_(event_ids))
    ).one()
    return Funnel(*(int(value or 0) for value in row))


def registrations_over_time(event_ids: list[int], zone: str) -> tuple[list[Period], bool]:
    """New registrations per local day (per week past 45 days), gaps included as zeros.

    The days are cut in the event's time zone, which SQL cannot do alike on SQLite and
    PostgreSQL; so the database sends only the timestamps, in one query, and they are counted
    here.
    """
    if not event_ids:
        return [], False
    local = ZoneInfo(zone)
    per_day = Counter(
        moment.astimezone(local).date()
        for moment in db.session.scalars(
            select(Registration.created_at).where(Registration.event_id.in_(event_ids), REGISTERED)
        )
    )
    if not per_day:
        return [], False
    first, last = min(per_day), max(per_day)
    per_week = (last - first).days + 1 > _DAILY_UP_TO
    if not per_week:
        days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        return [Period(day, f"{day:%d %b}", per_day[day]) for day in days], False
    per_monday: Counter[date] = Counter()
    for day, count in per_day.items():
        per_monday[day - timedelta(days=day.weekday())] += count
    monday = first - timedelta(days=first.weekday())
    periods = []
    while monday <= last:
        periods.append(Period(monday, f"wk {monday:%d %b}", per_monday[monday]))
        monday += timedelta(days=7)
    return periods, True


def by_source(event_ids: list[int]) -> list[SourceRow]:
    """Registrations per utm_source and utm_medium, most first, in one grouped query."""
    if not event_ids:
        return []
    source = func.coalesce(func.nullif(func.trim(Registration.utm_source), ""), NO_VALUE)
    medium = func.coalesce(func.nullif(func.trim(Registration.utm_medium), ""), NO_VALUE)
    rows = db.session.execute(
        select(
            source.label("source"),
            medium.label("medium"),
            func.count(case((REGISTERED, Registration.id))),
            func.count(case((Registration.status == "confirmed", Registration.id))),
            func.count(case((Registration.attended, Registration.id))),
        )
        .where(Registration.event_id.in_(event_ids))
        .group_by(source, medium)
        .having(func.count(case((REGISTERED, Registration.id))) > 0)
    ).all()
    lines = [SourceRow(str(s), str(m), int(r), int(c), int(a)) for s, m, r, c, a in rows]
    return sorted(lines, key=lambda line: (-line.registered, line.source, line.medium))


def by_link(event_id: int) -> list[LinkRow]:
    """Each of the event's source links with its visits and its people registered, attended
    and qualified (the lead's status, as in the funnel), in one grouped query."""
    registered = and_(REGISTERED, Registration.id.is_not(None))
    rows = db.session.execute(
        select(
            SourceLink.name,
            SourceLink.utm_source,
            SourceLink.utm_medium,
            SourceLink.visits,
            _people_where(registered),
            _people_where(Registration.attended),
            _people_where(and_(registered, Lead.status.in_(QUALIFIED))),
        )
        .select_from(SourceLink)
        .outerjoin(Registration, Registration.source_link_id == SourceLink.id)
        .outerjoin(Lead, Lead.id == Registration.lead_id)
        .where(SourceLink.event_id == event_id)
        .group_by(
            SourceLink.id,
            SourceLink.name,
            SourceLink.utm_source,
            SourceLink.utm_medium,
            SourceLink.visits,
        )
        .order_by(SourceLink.id)
    ).all()
    return [
        LinkRow(str(name), str(source), str(medium), *(int(value or 0) for value in counts))
        for name, source, medium, *counts in rows
    ]


def overview() -> tuple[list[EventLine], list[CampaignLine]]:
    """Every event with its counts, and every campaign with its people: two grouped queries."""
    counts = {
        event_id: (int(registered), int(confirmed), int(attended))
        for event_id, registered, confirmed, attended in db.session.execute(
            select(
                Registration.event_id,
                func.count(case((REGISTERED, Registration.id))),
                func.count(case((Registration.status == "confirmed", Registration.id))),
                func.count(case((Registration.attended, Registration.id))),
            ).group_by(Registration.event_id)
        )
    }
    people = {
        campaign_id: (int(registered), int(attended))
        for campaign_id, registered, attended in db.session.execute(
            select(
                Event.campaign_id, _people_where(REGISTERED), _people_where(Registration.attended)
            )
            .join(Event, Event.id == Registration.event_id)
            .where(Event.campaign_id.is_not(None))
            .group_by(Event.campaign_id)
        )
    }
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc())).all()
    lines = [EventLine(event, *counts.get(event.id, (0, 0, 0))) for event in events]
    campaigns: dict[int, CampaignLine] = {}
    for line in lines:
        campaign = line.event.campaign
        if campaign is None:
            continue
        if campaign.id not in campaigns:
            registered, attended = people.get(campaign.id, (0, 0))
            campaigns[campaign.id] = CampaignLine(campaign, [], registered, attended)
        campaigns[campaign.id].events.append(line)
    ordered = sorted(campaigns.values(), key=lambda item: item.campaign.name.lower())
    return lines, ordered
