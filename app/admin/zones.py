"""The console's time-zone picker: the zones people usually mean first, then every city's
zone by UTC offset, each labelled "(UTC−05:00) New York — America/New_York".

Only the zones tzdata lists for a place (its `zone.tab`) are offered, so the picker holds no
"Factory", "localtime", "posixrules", "Etc/GMT+5" or the old aliases ("US/Eastern"). The API
and the forms still accept any IANA name (`app.fields.time_zone`): a zone outside the list
that an event already has is kept in its edit form.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from app.db import utcnow

# What organizers mostly schedule in, west to east; shown first, in this order.
COMMON = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
COMMON_GROUP = "Common time zones"
ALL_GROUP = "All time zones"

Choices = dict[str, list[tuple[str, str]]]


@cache
def place_zones() -> tuple[str, ...]:
    """Every zone tzdata names for a country's place (zone.tab), that this Python knows."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    known = available_timezones()
    names = {
        columns[2]
        for line in table.splitlines()
        if line and not line.startswith("#") and len(columns := line.split("\t")) >= 3
    }
    return tuple(sorted(names & known))


def city(zone: str) -> str:
    """The place a zone is named after: "America/Argentina/Buenos_Aires" is "Buenos Aires"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def offset(zone: str, at: datetime) -> str:
    """The zone's offset from UTC at `at`, as "UTC−05:00" (a true minus sign) or "UTC+05:30"."""
    delta = at.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = round(delta.total_seconds() / 60) if delta else 0
    sign = "−" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def label(zone: str, at: datetime) -> str:
    if zone == "UTC":
        return "(UTC+00:00) Coordinated Universal Time — UTC"
    return f"({offset(zone, at)}) {city(zone)} — {zone}"


def zone_choices(current: str | None = None, at: datetime | None = None) -> Choices:
    """The picker's option groups (a WTForms select's dict of choices), offsets as of `at`.

    `current` (the zone a record has now) is offered even when it is not in the list, so
    saving a form never changes a zone nobody touched.
    """
    moment = at or utcnow()
    rest = [zone for zone in place_zones() if zone not in COMMON]
    if (
        current
        and current not in COMMON
        and current not in rest
        and current in available_timezones()
    ):
        rest.append(current)

    def by_offset(zone: str) -> tuple[float, str]:
        delta = moment.astimezone(ZoneInfo(zone)).utcoffset()
        return (delta.total_seconds() if delta else 0.0, city(zone))

    return {
        COMMON_GROUP: [(zone, label(zone, moment)) for zone in COMMON],
        ALL_GROUP: [(zone, label(zone, moment)) for zone in sorted(rest, key=by_offset)],
    }
