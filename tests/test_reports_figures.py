"""Report numbers for a built scenario: funnel, attendance rate, sources, registrations per day."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from app.db import db
from app.events.models import Campaign, Event
from app.followup.attendance import apply_attendance, read_report
from app.registrations.models import Lead
from app.registrations.services import cancel
from app.reports import figures
from tests.builders import make_event, register_person

MAY_12 = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)


def set_lead_status(email: str, status: str) -> None:
    db.session.execute(update(Lead).where(Lead.email == email).values(status=status))
    db.session.commit()


def build_spring() -> tuple[Event, Event]:
    """Two events of the "Spring launch" campaign and one of another campaign.

    launch-webinar (12 May, attendance imported):
      ada   newsletter/email  2 May   attended 58   converted
      bob   linkedin/social   2 May   attended 40   qualified
      cy    newsletter/email  2 May 23:30 UTC (3 May in Berlin)   no-show   disqualified
      dee   (none)            5 May   cancelled
      frank linkedin/social   5 May   attended 20   contacted
      gus   newsletter/email  5 May   no-show       new
    follow-up-webinar (20 May, no attendance yet): ada again, hal.
    autumn-webinar (another campaign): ivy.
    """
    launch = make_event(slug="launch-webinar", starts_at=MAY_12, campaign="Spring launch")
    rows = [
        ("ada@example.com", at(2), "newsletter", "email"),
        ("bob@example.com", at(2, 10), "linkedin", "social"),
        ("cy@example.com", at(2, 23, 30), "newsletter", "email"),
        ("dee@example.com", at(5), None, None),
        ("frank@example.com", at(5, 11), "linkedin", "social"),
        ("gus@example.com", at(5, 12), " newsletter ", "email"),
    ]
    registrations = {
        email: register_person(launch, email, now=when, utm_source=source, utm_medium=medium)
        for email, when, source, medium in rows
    }
    cancel(registrations["dee@example.com"].id)
    report = b"email,minutes\nada@example.com,58\nbob@example.com,40\nfrank@example.com,20\n"
    apply_attendance(launch, read_report(io.BytesIO(report), launch))

    follow_up = make_event(
        slug="follow-up-webinar", starts_at=MAY_12 + timedelta(days=8), campaign="Spring launch"
    )
    register_person(follow_up, "ada@example.com", now=at(6), utm_source="newsletter")
    register_person(follow_up, "hal@example.com", now=at(7), utm_source="partner")
    autumn = make_event(slug="autumn-webinar", starts_at=MAY_12, campaign="Autumn")
    register_person(autumn, "ivy@example.com", now=at(3))

    for email, status in [
        ("ada@example.com", "converted"),
        ("bob@example.com", "qualified"),
        ("cy@example.com", "disqualified"),
        ("frank@example.com", "contacted"),
    ]:
        set_lead_status(email, status)
    db.session.expire_all()
    return launch, follow_up


@pytest.fixture
def spring(app) -> tuple[Event, Event]:  # type: ignore[no-untyped-def]
    return build_spring()


def test_event_funnel_counts_each_stage(spring):
    launch, _ = spring

    report = figures.event_report(launch)

    assert report.funnel.stages() == [
        ("Registered", 5),  # dee cancelled
        ("Confirmed", 5),
        ("Attended", 3),
        ("Followed up", 4),  # contacted, qualified, disqualified and converted
        ("Qualified", 2),  # qualified and converted
        ("Converted", 1),
    ]
    assert report.attendance_rate == pytest.approx(3 / 5)


def test_event_sources_group_by_utm_source_and_medium(spring):
    launch, _ = spring

    report = figures.event_report(launch)

    # gus's " newsletter " counts with the rest; dee's cancelled row leaves no "(none)" line.
    assert report.sources == [
        figures.SourceRow("newsletter", "email", registered=3, confirmed=3, attended=1),
        figures.SourceRow("linkedin", "social", registered=2, confirmed=2, attended=2),
    ]


def test_registrations_are_counted_per_day_in_the_events_time_zone(spring):
    launch, _ = spring

    report = figures.event_report(launch)

    # cy registered at 23:30 UTC on 2 May, which is 01:30 on 3 May in Berlin.
    assert [(period.starts, period.count) for period in report.periods] == [
        (date(2026, 5, 2), 2),
        (date(2026, 5, 3), 1),
        (date(2026, 5, 4), 0),
        (date(2026, 5, 5), 2),
    ]
    assert not report.per_week


def test_campaign_counts_people_once_across_its_events(spring):
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.name == "Spring launch"))

    report = figures.campaign_report(campaign)

    assert [event.slug for event in report.events] == ["launch-webinar", "follow-up-webinar"]
    # ada registered for both events; ivy's event belongs to another campaign.
    assert report.funnel.registered == 6
    assert report.funnel.attended == 3
    # Only launch-webinar has attendance: its 5 confirmed are the rate's base, not all 7.
    assert report.events_with_attendance == 1
    assert report.attendance_rate == pytest.approx(3 / 5)
    assert sum(period.count for period in report.periods) == 7
    assert ("partner", "(none)", 1) in [
        (row.source, row.medium, row.registered) for row in report.sources
    ]


def test_an_event_without_attendance_has_no_rate(spring):
    _, follow_up = spring

    report = figures.event_report(follow_up)

    assert report.funnel.registered == 2
    assert report.funnel.attended == 0
    assert report.attendance_rate is None


def test_a_long_campaign_is_counted_per_week(app):
    event = make_event(slug="evergreen", starts_at=at(1) + timedelta(days=200))
    register_person(event, "early@example.com", now=at(1))
    register_person(event, "late@example.com", now=at(1) + timedelta(days=90))

    report = figures.event_report(event)

    assert report.per_week
    assert report.periods[0].starts.weekday() == 0
    assert sum(period.count for period in report.periods) == 2
    assert len(report.periods) == 14


def test_overview_lists_every_event_with_its_counts_and_campaign(spring):
    events, campaigns = figures.overview()

    by_slug = {line.event.slug: line for line in events}
    assert (by_slug["launch-webinar"].registered, by_slug["launch-webinar"].attended) == (5, 3)
    assert by_slug["launch-webinar"].attendance_rate == pytest.approx(0.6)
    assert by_slug["follow-up-webinar"].attendance_rate is None
    # ada registered for both spring events: 7 registrations, 6 people.
    assert [
        (line.campaign.name, len(line.events), line.registered, line.attended) for line in campaigns
    ] == [("Autumn", 1, 1, 0), ("Spring launch", 2, 6, 3)]
    assert by_slug["autumn-webinar"].registered == 1
