"""Dates, times and durations as Zoom and GoToWebinar print them, read into UTC instants and
minutes; a time without a zone is the event's local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

# Times outside these years are not a webinar's (the API accepts events in the same span).
_YEARS = (1970, 9000)
# The longest date and time the tools print is about 40 characters ("May 16, 2012 10:58 AM EDT").
TIME_CHARS = 80

# Zone abbreviations the webinar tools print after a time ("May 16, 2012 10:58 AM EDT").
# Ambiguous ones (IST, CST in China) are left out: those times are read in the event's zone.
_ZONE_HOURS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "JST": 9,
    "KST": 9,
    "SGT": 8,
    "AEST": 10,
    "AEDT": 11,
}
_OFFSET = re.compile(r"^\(?(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?\)?$", re.IGNORECASE)
_NUMERIC_TIME = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*([AaPp])?\.?[Mm]?\.?$"
)
_CLOCK = re.compile(r"^(\d+):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
# Teams writes a duration in words: `1h 42m 3s`, and in the meeting's language (`1 h 42 min`,
# `1 Std. 42 Min. 3 Sek.`).
_SPAN_PART = r"(\d+(?:[.,]\d+)?)\s*([^\W\d_]+)\.?"
_SPAN = re.compile(rf"^(?:{_SPAN_PART}\s*)+$")
_UNIT_MINUTES = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden"), 60.0),
    **dict.fromkeys(("heure", "heures"), 60.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "minuten"), 1.0),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds", "sek", "sekunde"), 1 / 60),
    **dict.fromkeys(("sekunden", "seconde", "secondes"), 1 / 60),
}


def parse_minutes(text: str) -> float:
    """Minutes from `58`, `58.53`, `58,53`, a clock `1:05:30` or words `1h 42m 3s`;
    ValueError otherwise."""
    text = text.strip()
    if _NUMBER.match(text):
        return float(text.replace(",", "."))
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours) * 60 + int(minutes) + float(seconds or 0) / 60
    if len(text) <= TIME_CHARS and _SPAN.match(text):
        total = 0.0
        for amount, unit in re.findall(_SPAN_PART, text):
            if unit.lower() not in _UNIT_MINUTES:
                raise ValueError(text)
            total += float(amount.replace(",", ".")) * _UNIT_MINUTES[unit.lower()]
        return total
    raise ValueError(text)


def parse_instant(text: str, zone: ZoneInfo, anchor: datetime, unknown: set[str]) -> datetime:
    """A UTC instant from the date styles the tools print; a time without a zone is the
    event's local time. Raises ValueError."""
    text = " ".join(text.split())
    tz: Any = None
    body, _, last = text.rpartition(" ")
    if body:
        upper = last.upper().strip("()")
        offset = _OFFSET.match(last)
        if upper in _ZONE_HOURS:
            tz, text = timezone(timedelta(hours=_ZONE_HOURS[upper])), body
        elif offset and (":" in body):
            sign, hours, minutes = offset.groups()
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
            tz, text = timezone(delta if sign == "+" else -delta), body
        elif upper.isalpha() and 2 <= len(upper) <= 5 and upper not in {"AM", "PM"}:
            unknown.add(upper)
            text = body
    moment = _naive_or_aware(text, anchor)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or zone)
    # Year 9999 in a zone west of UTC has no UTC instant, and no webinar was ever that far out.
    if not _YEARS[0] <= moment.year <= _YEARS[1]:
        raise ValueError(text)
    return moment.astimezone(UTC)


def _naive_or_aware(text: str, anchor: datetime) -> datetime:
    numeric = _NUMERIC_TIME.match(text)
    if numeric:
        return _numeric_time(numeric, anchor)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # Named months ("May 16, 2012 10:58 AM"); a year is required so that a stray number is
    # never read as a day of the current month.
    if not re.search(r"\d{4}", text) or not re.search(r"[A-Za-z]{3}|^\d{4}/", text):
        raise ValueError(text)
    try:
        return dateutil_parser.parse(text)
    except (dateutil_parser.ParserError, OverflowError) as exc:
        raise ValueError(text) from exc


def _numeric_time(match: re.Match[str], anchor: datetime) -> datetime:
    """`04/05/2026 10:58:01 AM` is April 5th in the US and 4 May elsewhere: of the readings
    that make a date, take the one nearest the event."""
    first, second, year, hour, minute, second_of_minute, half = match.groups()
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    clock = int(hour)
    if half:
        if not 1 <= clock <= 12:
            raise ValueError(match.string)
        clock = clock % 12 + (12 if half.lower() == "p" else 0)
    readings = []
    for month, day in ((first, second), (second, first)):
        try:
            readings.append(
                datetime(
                    full_year,
                    int(month),
                    int(day),
                    clock,
                    int(minute),
                    int(second_of_minute or 0),
                )
            )
        except ValueError:
            continue
    if not readings:
        raise ValueError(match.string)
    return min(readings, key=lambda moment: abs(moment - anchor))
