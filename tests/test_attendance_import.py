"""Reading attendee reports (Zoom, GoToWebinar, plain CSV) and applying them to registrations."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.followup.attendance import (
    EXPECTED,
    SLACK_MINUTES,
    AttendanceFileError,
    apply_attendance,
    preview_attendance,
    read_report,
)
from app.registrations.models import Registration
from tests.builders import make_event, register_person

FIXTURES = Path(__file__).parent / "fixtures" / "attendance"
STARTS = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)  # 17:00 in Berlin, 11:00 in New York


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def webinar_with_registrants() -> Event:
    """The webinar of the fixture reports: five confirmed registrants and one on the waitlist."""
    event = make_event(slug="launch-webinar", starts_at=STARTS, duration_minutes=60, capacity=5)
    before = STARTS - timedelta(days=10)
    for email in ("ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com"):
        register_person(event, email, now=before)
    register_person(event, "Frank@Example.com", now=before)
    register_person(event, "eve@example.com", now=before)  # the sixth: waitlisted
    return event


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


def read(name: str, event: Event):  # type: ignore[no-untyped-def]
    with (FIXTURES / name).open("rb") as handle:
        return read_report(handle, event)


def read_bytes(data: bytes, event: Event):  # type: ignore[no-untyped-def]
    return read_report(io.BytesIO(data), event)


def snapshot(event: Event) -> dict[str, tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.event_id == event.id))
    return {
        row.email_normalized: (
            row.attended_minutes,
            row.joined_at,
            row.left_at,
            row.questions_asked,
            row.updated_at,
        )
        for row in rows
    }


# Each format ---------------------------------------------------------------------------------


def test_zoom_report_adds_up_each_persons_joins_and_skips_host_and_panelists(webinar):
    report = read("zoom_webinar_attendee_report.csv", webinar)

    assert report.source == "Zoom attendee report"
    assert report.actual_minutes == 66
    assert set(report.attendees) == {
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "frank@example.com",
        "walkin@example.org",
    }
    ada = report.attendees["ada@example.com"]  # "Ada@Example.com" and "ada@example.com"
    assert (ada.minutes, ada.joins) == (58, 2)
    # 04:58:10 PM Berlin (summer time) is 14:58:10 UTC; the last leave is the later join's.
    assert ada.joined_at == utc(2026, 5, 12, 14, 58, 10)
    assert ada.left_at == utc(2026, 5, 12, 16, 1)
    assert report.attendees["bob@example.com"].minutes == 46
    assert report.attendees["frank@example.com"].minutes == 140


def test_zoom_report_reads_dash_dash_as_blank_and_attended_no_as_absent(webinar):
    report = read("zoom_webinar_attendee_report.csv", webinar)

    cy = report.attendees["cy@example.com"]
    assert not cy.attended
    assert (cy.minutes, cy.joined_at, cy.left_at) == (0, None, None)
    assert report.warnings == []


def test_gotowebinar_report_reads_named_month_dates_with_zone_and_fractional_minutes(webinar):
    report = read("gotowebinar_attendee_report.csv", webinar)

    assert report.source == "GoToWebinar attendee report"
    assert report.actual_minutes == 66
    ada = report.attendees["ada@example.com"]
    assert ada.minutes == pytest.approx(58.25)
    # "May 12, 2026 10:58 AM EDT" is 14:58 UTC whatever the event's own zone.
    assert ada.joined_at == utc(2026, 5, 12, 14, 58)
    assert ada.left_at == utc(2026, 5, 12, 16, 1)
    # One question in the first row, two (one a line) in the second.
    assert ada.questions == 3
    assert report.attendees["bob@example.com"].minutes == pytest.approx(45.5)
    assert report.attendees["frank@example.com"].minutes == pytest.approx(140)
    assert not report.attendees["cy@example.com"].attended


def test_day_first_dates_are_read_as_the_reading_nearest_the_event(webinar):
    # "12/05/2026 16:58:10" is 12 May in this export, not 5 December.
    report = read("zoom_day_first.csv", webinar)

    ada = report.attendees["ada@example.com"]
    assert ada.joined_at == utc(2026, 5, 12, 14, 58, 10)
    assert ada.minutes == 58
    assert report.source == "Zoom attendee report"


def test_month_first_dates_are_read_as_the_reading_nearest_the_event(app):
    # The same text as above, for an event in December: now month first is right.
    december = make_event(slug="december", starts_at=utc(2026, 12, 5, 15, 0))
    data = b"email,minutes,join time\nada@example.com,30,12/05/2026 16:10:00\n"

    report = read_bytes(data, december)

    assert report.attendees["ada@example.com"].joined_at == utc(2026, 12, 5, 15, 10)


def test_plain_csv_with_email_and_minutes_sums_each_email(webinar):
    report = read("plain_email_minutes.csv", webinar)

    assert report.source == "CSV"
    assert {email: person.minutes for email, person in report.attendees.items()} == {
        "ada@example.com": 58,
        "bob@example.com": 45.5,
        "walkin@example.org": 30,
    }


def test_semicolon_csv_with_decimal_commas_is_read(webinar):
    report = read("plain_semicolon_decimal_comma.csv", webinar)

    assert report.attendees["ada@example.com"].minutes == pytest.approx(58.5)
    assert report.attendees["bob@example.com"].minutes == pytest.approx(45.5)


def test_iso_times_and_seconds_are_read(webinar):
    report = read("iso_seconds.csv", webinar)

    ada = report.attendees["ada@example.com"]
    assert ada.minutes == pytest.approx(58)
    assert ada.joined_at == utc(2026, 5, 12, 14, 58, 10)
    bob = report.attendees["bob@example.com"]
    assert bob.minutes == pytest.approx(45.5)
    assert bob.left_at == utc(2026, 5, 12, 15, 47, 30)


def test_a_byte_order_mark_before_a_plain_header_is_ignored(webinar):
    report = read_bytes(b"\xef\xbb\xbfEmail Address,Minutes\r\nada@example.com,12\r\n", webinar)

    assert report.attendees["ada@example.com"].minutes == 12


def test_minutes_are_worked_out_from_join_and_leave_when_the_report_has_none(webinar):
    data = b"email,join time,leave time\nada@example.com,2026-05-12 17:00,2026-05-12 17:40:30\n"

    report = read_bytes(data, webinar)

    assert report.attendees["ada@example.com"].minutes == pytest.approx(40.5)


def test_a_nearly_empty_row_amid_the_joins_does_not_end_the_section(webinar):
    data = b"email,minutes,attended\nada@example.com,10,Yes\nYes,,\nbob@example.com,20,Yes\n"

    report = read_bytes(data, webinar)

    assert report.attendees["bob@example.com"].minutes == 20


def test_a_row_with_an_unreadable_number_is_noted_not_fatal(webinar):
    data = b"email,minutes\nada@example.com,lots\nbob@example.com,10\n"

    report = read_bytes(data, webinar)

    assert report.attendees["bob@example.com"].minutes == 10
    assert not report.attendees["ada@example.com"].attended
    assert any("'lots' is not a number of minutes" in warning for warning in report.warnings)


# Large files ---------------------------------------------------------------------------------


class Upload(io.RawIOBase):
    """A non-seekable upload that remembers how much was asked of it at once."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_large_report_is_read_in_chunks_with_progress(webinar):
    rows = "".join(f"person{n}@example.com,{n % 50}.5\n" for n in range(60_000))
    data = ("email,minutes\n" + rows + "ada@example.com,12\n").encode()
    upload = Upload(data)
    seen: list[int] = []

    report = read_report(upload, webinar, progress=seen.append)

    assert len(data) > 1_000_000
    assert upload.largest_read <= 64 * 1024
    assert sum(seen) == len(data)
    assert len(report.attendees) == 60_001
    assert report.attendees["person49@example.com"].minutes == 49.5


# Files that are not attendee reports ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ((FIXTURES / "unrelated.csv").read_bytes(), "found columns: name, company, country"),
        (b"email,name\nada@example.com,Ada\n", "found columns: email, name"),
        ((FIXTURES / "empty.csv").read_bytes(), "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "binary file"),
        ((FIXTURES / "latin1.csv").read_bytes(), "not UTF-8 text (line 2"),
        (b"Just a note.\nNothing tabular here.\n", "found columns: Just a note."),
    ],
    ids=["unrelated", "no-minutes", "empty", "only-bom", "binary", "latin-1", "prose"],
)
def test_a_file_that_is_not_an_attendee_report_gets_a_clear_message(webinar, data, words):
    with pytest.raises(AttendanceFileError) as refused:
        read_bytes(data, webinar)

    assert words in refused.value.message
    assert EXPECTED in refused.value.message


def test_an_excel_workbook_is_told_to_be_exported_as_csv(webinar):
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    with pytest.raises(AttendanceFileError) as refused:
        read_bytes(workbook.getvalue(), webinar)

    assert "Excel workbook" in refused.value.message


# Preview and apply ---------------------------------------------------------------------------


def test_preview_counts_attendees_no_shows_and_unmatched_without_writing(webinar):
    report = read("zoom_webinar_attendee_report.csv", webinar)
    before = snapshot(webinar)

    preview = preview_attendance(webinar, report)

    assert preview.counts == {"attended": 3, "no_show": 2, "unmatched": 1}
    assert [item.registration.email_normalized for item in preview.matched] == [
        "ada@example.com",
        "bob@example.com",
        "frank@example.com",
    ]
    # cy said "No" in the report; dee is not in it; eve was on the waitlist, so no no-show.
    assert sorted(r.email_normalized for r in preview.no_shows) == [
        "cy@example.com",
        "dee@example.com",
    ]
    assert [person.email for person in preview.unmatched] == ["walkin@example.org"]
    assert snapshot(webinar) == before
    assert db.session.get(Event, webinar.id).attendance_imported_at is None


def test_overlapping_joins_are_capped_at_the_event_length_plus_slack(webinar):
    report = read("zoom_webinar_attendee_report.csv", webinar)

    preview = preview_attendance(webinar, report)

    frank = next(item for item in preview.matched if item.registration.email.startswith("Frank"))
    # The report says the webinar ran 66 minutes, longer than the 60 planned.
    assert frank.minutes == 66 + SLACK_MINUTES
    assert frank.capped
    assert any("credited with at most 96 minutes" in warning for warning in preview.warnings)


def test_applying_sets_minutes_times_questions_and_no_shows(webinar):
    report = read("gotowebinar_attendee_report.csv", webinar)
    applied_at = utc(2026, 5, 13, 9, 0)

    summary = apply_attendance(webinar, report, now=applied_at)

    assert summary.counts() == {"attended": 3, "no_show": 2, "unmatched": 1}
    after = snapshot(webinar)
    assert after["ada@example.com"][:4] == (
        58.25,
        utc(2026, 5, 12, 14, 58),
        utc(2026, 5, 12, 16, 1),
        3,
    )
    assert after["bob@example.com"][0] == 45.5
    assert after["frank@example.com"][0] == 96
    assert after["cy@example.com"][:4] == (0, None, None, 0)
    assert after["dee@example.com"][:4] == (0, None, None, 0)
    assert after["eve@example.com"][:4] == (None, None, None, 0)
    assert db.session.get(Event, webinar.id).attendance_imported_at == applied_at


def test_applying_the_same_report_twice_changes_nothing(webinar):
    apply_attendance(
        webinar, read("zoom_webinar_attendee_report.csv", webinar), now=utc(2026, 5, 13, 9)
    )
    first = snapshot(webinar)

    again = apply_attendance(
        webinar, read("zoom_webinar_attendee_report.csv", webinar), now=utc(2026, 5, 14, 9)
    )

    assert snapshot(webinar) == first
    assert again.counts() == {"attended": 3, "no_show": 2, "unmatched": 1}
    # Nothing changed, so the event keeps the time of the import that did change something.
    assert db.session.get(Event, webinar.id).attendance_imported_at == utc(2026, 5, 13, 9)


def test_a_new_report_replaces_the_last_one_instead_of_adding_to_it(webinar):
    apply_attendance(webinar, read("zoom_webinar_attendee_report.csv", webinar))

    apply_attendance(webinar, read("plain_email_minutes.csv", webinar))

    after = snapshot(webinar)
    assert after["ada@example.com"][:3] == (58, None, None)
    assert after["bob@example.com"][0] == 45.5
    # frank is not in the plain file: now a no-show, not 96 + anything.
    assert after["frank@example.com"][0] == 0


def test_a_report_kept_as_json_applies_the_same_as_the_original(webinar):
    from app.followup.attendance import AttendeeReport

    report = read("gotowebinar_attendee_report.csv", webinar)
    kept = AttendeeReport.from_json(report.to_json())

    assert kept == report
