"""Scoring a lead's engagement with an event into a priority and a due time in business hours.

Thresholds, SLAs and business hours are settings (`app.models.Setting`) staff change in the
console; the defaults below apply until they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db import db
from app.models import Setting
from app.refusals import Refusal
from app.registrations.models import counts_as_attended

SETTING_KEY = "followup"

DEFAULTS: dict[str, Any] = {
    # Score (0-100) at or above which an attendee is hot, or warm.
    "hot_score": 55,
    "warm_score": 25,
    # How long a rep has, in business minutes of their own working day.
    "sla_minutes": {"hot": 60, "warm": 8 * 60, "cold": 3 * 8 * 60},
    "workday_start": "09:00",
    "workday_end": "17:00",
    # Monday is 0.
    "workdays": [0, 1, 2, 3, 4],
    # Overdue by this long, a follow-up is escalated.
    "escalate_after_minutes": 4 * 60,
    # Routing waits for attendance, but no longer than this after the event ends.
    "route_after_minutes": 2 * 60,
}


class SettingsRejected(Refusal):
    """Follow-up settings that break a rule; `fields` names each setting and why."""

    default_message = "The follow-up settings were not saved."


@dataclass(frozen=True)
class FollowUpSettings:
    hot_score: int
    warm_score: int
    sla_minutes: dict[str, int]
    workday_start: time
    workday_end: time
    workdays: frozenset[int]
    escalate_after_minutes: int
    route_after_minutes: int
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def load_settings() -> FollowUpSettings:
    row = db.session.scalar(select(Setting).where(Setting.key == SETTING_KEY))
    values = {**DEFAULTS, **(row.value if row is not None and isinstance(row.value, dict) else {})}
    return _parse(values)


def save_settings(values: dict[str, Any]) -> FollowUpSettings:
    """Check and store new settings (the caller commits); unknown keys are refused."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise SettingsRejected(fields={name: "Unknown setting." for name in sorted(unknown)})
    current = load_settings().raw
    merged = {**current, **values}
    parsed = _parse(merged)
    row = db.session.get(Setting, SETTING_KEY)
    if row is None:
        db.session.add(Setting(key=SETTING_KEY, value=merged))
    else:
        row.value = merged
    return parsed


def _parse(values: dict[str, Any]) -> FollowUpSettings:
    problems: dict[str, str] = {}

    def whole(name: str, low: int, high: int) -> int:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems[name] = f"Use a whole number from {low} to {high}."
            return low
        return value

    def clock(name: str) -> time:
        try:
            return time.fromisoformat(str(values[name]))
        except ValueError:
            problems[name] = "Use a time of day such as 09:00."
            return time(0)

    hot, warm = whole("hot_score", 1, 100), whole("warm_score", 0, 100)
    if "hot_score" not in problems and "warm_score" not in problems and warm > hot:
        problems["warm_score"] = "The warm threshold cannot be above the hot threshold."
    sla = values["sla_minutes"]
    sla_minutes: dict[str, int] = {}
    for priority in ("hot", "warm", "cold"):
        minutes = sla.get(priority) if isinstance(sla, dict) else None
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 100000:
            problems[f"sla_minutes.{priority}"] = "Use business minutes from 1 to 100000."
        else:
            sla_minutes[priority] = minutes
    start, end = clock("workday_start"), clock("workday_end")
    if "workday_start" not in problems and "workday_end" not in problems and end <= start:
        problems["workday_end"] = "The working day must end after it starts."
    days = values["workdays"]
    if (
        not isinstance(days, list)
        or not days
        or not all(isinstance(day, int) and 0 <= day <= 6 for day in days)
    ):
        problems["workdays"] = "Choose at least one working day."
        days = [0]
    escalate = whole("escalate_after_minutes", 1, 100000)
    route_after = whole("route_after_minutes", 0, 100000)
    if problems:
        raise SettingsRejected(fields=problems)
    return FollowUpSettings(
        hot_score=hot,
        warm_score=warm,
        sla_minutes=sla_minutes,
        workday_start=start,
        workday_end=end,
        workdays=frozenset(days),
        escalate_after_minutes=escalate,
        route_after_minutes=route_after,
        raw=dict(values),
    )


# An on-demand view counts as this share of the event watched: the recording's player (a
# video page we only link to) reports no minutes, so a view is credited as half the event.
ON_DEMAND_SHARE = 0.5


@dataclass(slots=True, frozen=True)
class Engagement:
    """What a lead did around one event, as far as we know it."""

    attended_minutes: float | None
    event_minutes: int
    questions: int = 0
    polls: int = 0
    earlier_registrations: int = 0
    # Checked in at an in-person event's door: there, even with no webinar minutes.
    checked_in: bool = False
    # Watched the recording through its tracked link (after the event, or again after it).
    on_demand: bool = False

    @property
    def attended(self) -> bool:
        """There live, or on demand: a recording watched is attendance too."""
        return self.on_demand or counts_as_attended(self.checked_in, self.attended_minutes)


@dataclass(slots=True)
class Score:
    score: int
    priority: str


def score(engagement: Engagement, settings: FollowUpSettings) -> Score:
    """Up to 70 points for the share of the event watched (live, or `ON_DEMAND_SHARE` for a
    recording watched on demand), 10 per question (at most 20),
    5 per poll answered (at most 10), 5 per earlier registration (at most 10).

    Only attendees can be hot; a no-show is warm at best, so attendees come first.
    """
    share = 0.0
    if engagement.attended_minutes and engagement.event_minutes > 0:
        share = min(engagement.attended_minutes / engagement.event_minutes, 1.0)
    if engagement.on_demand:
        share = max(share, ON_DEMAND_SHARE)
    points = (
        round(share * 70)
        + min(engagement.questions, 2) * 10
        + min(engagement.polls, 2) * 5
        + min(engagement.earlier_registrations, 2) * 5
    )
    points = min(points, 100)
    if engagement.attended and points >= settings.hot_score:
        priority = "hot"
    elif points >= settings.warm_score:
        priority = "warm"
    else:
        priority = "cold"
    return Score(points, priority)


def due_at(start: datetime, priority: str, zone: str, settings: FollowUpSettings) -> datetime:
    """`start` plus the priority's SLA, counted only in the rep's business hours."""
    return add_business_minutes(start, settings.sla_minutes[priority], zone, settings)


def add_business_minutes(
    start: datetime, minutes: int, zone: str, settings: FollowUpSettings
) -> datetime:
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    remaining = timedelta(minutes=minutes)
    # A year of days is far more than any SLA needs; the bound only guards a bad setting.
    for _day in range(400):
        day = local.date()
        if day.weekday() in settings.workdays:
            opens = datetime.combine(day, settings.workday_start, tz)
            closes = datetime.combine(day, settings.workday_end, tz)
            begin = max(local, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        local = datetime.combine(day + timedelta(days=1), time(0), tz)
    raise ValueError("business hours never open; check the working days")
