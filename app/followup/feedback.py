"""Feedback to marketing: how the leads of each campaign, event and source fared with sales.

Speed to lead runs from the webinar's actual end (`Event.ended_at`, from its platform) when
known, else from its scheduled end (`starts_at` + duration), to the rep's first contact.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from app.db import db
from app.events.models import Campaign, Event
from app.followup.models import FollowUp
from app.registrations.models import Registration

GROUPINGS = {"campaign": "Campaign", "event": "Event", "utm_source": "UTM source"}
# Sales took the lead up: it was contacted and worked, not turned down.
ACCEPTED = ("contacted", "qualified", "converted")
NONE_LABEL = "(none)"


@dataclass
class Quality:
    """One line of the report."""

    label: str
    routed: int = 0
    accepted: int = 0
    qualified: int = 0
    disqualified: int = 0
    converted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # Hours from the event's end to the first contact, one per contacted lead.
    speeds: list[float] = field(default_factory=list)
    # How many of `speeds` were measured from the webinar's actual end (its platform reported
    # it); the others from the scheduled end.
    from_actual_end: int = 0

    @property
    def measured_from(self) -> str | None:
        """Which moment speed to lead runs from, in words: "actual end", "scheduled end",
        or "actual end for N of M" when the line's events differ."""
        if not self.speeds:
            return None
        if self.from_actual_end == len(self.speeds):
            return "actual end"
        if self.from_actual_end == 0:
            return "scheduled end"
        return f"actual end for {self.from_actual_end} of {len(self.speeds)}"

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.speeds) if self.speeds else None

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.speeds, 90)


def percentile(values: list[float], pct: int) -> float | None:
    """The nearest-rank percentile: the smallest value with at least pct% of values at or
    below it (no interpolation, so it is always a time some lead actually waited)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def lead_quality(by: str) -> list[Quality]:
    """The report grouped `by` campaign, event or utm_source, most routed leads first."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    rows = db.session.execute(
        select(
            FollowUp.status,
            FollowUp.reason,
            FollowUp.first_contacted_at,
            Event.ends_at,
            Event.ended_at,
            Event.title,
            Event.slug,
            Campaign.name,
            Registration.utm_source,
        )
        .join(Event, Event.id == FollowUp.event_id)
        .outerjoin(Campaign, Campaign.id == Event.campaign_id)
        .outerjoin(Registration, Registration.id == FollowUp.registration_id)
        .execution_options(yield_per=2000)
    )
    groups: dict[str, Quality] = {}
    for status, reason, contacted_at, ends_at, ended_at, title, slug, campaign, utm_source in rows:
        if by == "campaign":
            label = campaign or NONE_LABEL
        elif by == "event":
            label = f"{title} ({slug})"
        else:
            label = (utm_source or "").strip().lower() or NONE_LABEL
        line = groups.setdefault(label, Quality(label))
        line.routed += 1
        if status in ACCEPTED:
            line.accepted += 1
        if status == "qualified":
            line.qualified += 1
        elif status == "converted":
            # A converted lead was qualified on the way.
            line.qualified += 1
            line.converted += 1
        elif status == "disqualified":
            line.disqualified += 1
            line.reasons[reason or "other"] += 1
        if contacted_at is not None:
            # From the moment the webinar really ended when its platform said so.
            ended = ended_at or ends_at
            line.speeds.append(max((contacted_at - ended).total_seconds(), 0) / 3600)
            line.from_actual_end += ended_at is not None
    return sorted(groups.values(), key=lambda line: (-line.routed, line.label))
