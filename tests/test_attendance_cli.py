"""`flask --app wsgi attendance import SLUG FILE`: the same service, with a progress bar."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.models import Registration
from tests.test_attendance_import import FIXTURES, webinar_with_registrants


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


def test_the_command_imports_a_report_with_a_progress_bar_and_reports_counts(runner, webinar):
    path = FIXTURES / "zoom_webinar_attendee_report.csv"

    result = runner.invoke(args=["attendance", "import", "launch-webinar", str(path)])

    assert result.exit_code == 0, result.output
    assert "Reading the report" in result.output
    assert "Zoom attendee report" in result.output
    assert "3 attended, 2 no-shows, 1 unmatched" in result.output
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).attendance_imported_at is not None
    minutes = db.session.scalar(
        select(Registration.attended_minutes).where(
            Registration.email_normalized == "bob@example.com"
        )
    )
    assert minutes == 46


def test_the_command_refuses_a_file_that_is_not_a_report_and_saves_nothing(runner, webinar):
    result = runner.invoke(
        args=["attendance", "import", "launch-webinar", str(FIXTURES / "unrelated.csv")]
    )

    assert result.exit_code == 1
    assert "found columns: name, company, country" in result.output
    db.session.expire_all()
    assert db.session.get(Event, webinar.id).attendance_imported_at is None


def test_the_command_names_an_unknown_event(runner, webinar):
    path = FIXTURES / "plain_email_minutes.csv"

    result = runner.invoke(args=["attendance", "import", "no-such-event", str(path)])

    assert result.exit_code == 1
    assert "no event with the slug no-such-event" in result.output


def test_the_command_reads_a_report_piped_on_standard_input(runner, webinar):
    data = (FIXTURES / "plain_email_minutes.csv").read_bytes()

    result = runner.invoke(args=["attendance", "import", "launch-webinar", "-"], input=data)

    assert result.exit_code == 0, result.output
    assert "2 attended, 3 no-shows, 1 unmatched" in result.output
