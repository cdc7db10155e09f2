"""Attendance files that used to be refused or misread: Zoom's meeting participants report,
GoToWebinar's questions with their answers, Microsoft Teams reports (UTF-16 with tabs, `;`,
French and German headers, the organizer among the participants)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.followup.attendance.times import parse_minutes
from app.registrations.models import Registration
from tests.test_attendance_api import bearer, upload
from tests.test_attendance_import import read, utc, webinar_with_registrants

TEAMS = "Microsoft Teams attendance report"


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


def people(report) -> dict[str, tuple[float, int]]:  # type: ignore[no-untyped-def]
    """Each attendee's (minutes, questions), minutes rounded to the second."""
    return {
        email: (round(person.minutes, 2), person.questions)
        for email, person in report.attendees.items()
        if person.attended
    }


def test_zoom_meeting_participants_report_is_read_and_its_host_left_out(webinar):
    report = read("zoom_meeting_participants.csv", webinar)

    assert report.source == "Zoom meeting participants report"
    # The meeting line above the participants names the host and the meeting's length.
    assert report.actual_minutes == 71
    assert people(report) == {
        "ada@example.com": (58, 0),
        "bob@example.com": (46, 0),
        "frank@example.com": (70, 0),
        "walkin@example.org": (30, 0),
    }
    ada = report.attendees["ada@example.com"]
    assert (ada.joins, ada.joined_at, ada.left_at) == (
        2,
        utc(2026, 5, 12, 14, 58, 10),
        utc(2026, 5, 12, 16, 1),
    )
    assert report.warnings == []


def test_gotowebinar_questions_with_answers_count_each_question_once(webinar):
    report = read("gotowebinar_questions_and_answers.csv", webinar)

    # One Q:/A: pair in Ada's first row, two in her second: three questions, not six lines.
    assert report.attendees["ada@example.com"].questions == 3
    assert report.attendees["bob@example.com"].questions == 0


def test_teams_utf16_tab_report_reads_the_participants_once_without_the_organizer(webinar):
    report = read("teams_attendance_utf16_tabs.csv", webinar)

    assert report.source == TEAMS
    # "Meeting duration 1h 10m 28s" in the summary block.
    assert report.actual_minutes == pytest.approx(70 + 28 / 60)
    # The in-meeting activities repeat the participants join by join: not counted twice.
    assert people(report) == {
        "ada@example.com": (58, 0),
        "bob@example.com": (46, 0),
        "frank@example.com": (70.5, 0),
        "walkin@example.org": (30, 0),
    }
    assert "olga@example.com" not in report.attendees
    # "5/12/26, 4:58:10 PM" in Berlin summer time.
    assert report.attendees["ada@example.com"].joined_at == utc(2026, 5, 12, 14, 58, 10)
    assert report.warnings == []


def test_teams_german_report_with_semicolons_is_read(webinar):
    report = read("teams_attendance_german_semicolons.csv", webinar)

    assert report.source == TEAMS
    assert report.actual_minutes == pytest.approx(70 + 28 / 60)
    assert people(report) == {
        "ada@example.com": (58, 0),
        "bob@example.com": (46, 0),
        "walkin@example.org": (30, 0),
    }
    assert report.attendees["bob@example.com"].left_at == utc(2026, 5, 12, 15, 48)
    assert report.warnings == []


def test_teams_french_report_is_read_with_its_accented_headers(webinar):
    report = read("teams_attendance_french_utf16.csv", webinar)

    assert report.source == TEAMS
    assert people(report) == {
        "ada@example.com": (58, 0),
        "bob@example.com": (46, 0),
        "cy@example.com": (0.5, 0),
    }
    assert "olga@example.com" not in report.attendees
    assert report.warnings == []


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1h 42m 3s", 102.05),
        ("42m", 42),
        ("30s", 0.5),
        ("1 h 10 min 28 s", 70 + 28 / 60),
        ("1 Std. 15 Min. 38 Sek.", 75 + 38 / 60),
    ],
)
def test_durations_in_words_are_minutes(text, minutes):
    assert parse_minutes(text) == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["3 parsecs", "h 5", "1h 2x"])
def test_a_duration_with_an_unknown_unit_is_not_minutes(text):
    with pytest.raises(ValueError):
        parse_minutes(text)


def test_a_teams_report_uploaded_through_the_api_applies_like_any_report(client, webinar):
    response = upload(client, bearer("marketer"), "teams_attendance_utf16_tabs.csv")

    assert response.status_code == 200, response.json
    # The organizer is neither an attendee nor an unmatched person; the walk-in is unmatched.
    assert response.json == {"attended": 3, "no_show": 2, "unmatched": 1}
    minutes = dict(
        db.session.execute(
            select(Registration.email_normalized, Registration.attended_minutes)
        ).all()
    )
    assert minutes["ada@example.com"] == 58
    assert minutes["frank@example.com"] == 70.5
