"""Large attendance reports are kept in the database a batch of people at a time and applied
from there: a person whose joins fall in different batches is still one person, every
walk-in of a large report is made at once, and nothing of the report stays behind."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.db import db
from app.followup.attendance import BATCH, import_attendance, keep_upload, preview_attendance
from app.followup.attendance.previews import AttendancePreview, KeptAttendee
from app.registrations.models import Lead, Registration
from tests.builders import make_event, register_person

STARTS = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)


def report(*rows: str) -> io.BytesIO:
    return io.BytesIO(
        ("email,name,minutes,join time,leave time,questions\n" + "".join(rows)).encode()
    )


def others(count: int) -> list[str]:
    return [f"other{n:05d}@example.org,,5,,,0\n" for n in range(count)]


def registration_of(event_id: int, email: str) -> Registration:
    db.session.expire_all()
    return db.session.scalars(
        select(Registration).where(
            Registration.event_id == event_id, Registration.email_normalized == email
        )
    ).one()


def kept_rows() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(AttendancePreview)) or 0,
        db.session.scalar(select(func.count()).select_from(KeptAttendee)) or 0,
    )


def test_joins_of_one_person_in_different_batches_add_up(app):
    event = make_event(slug="big", starts_at=STARTS, duration_minutes=90, timezone="UTC")
    register_person(event, "ada@example.com", now=STARTS - timedelta(days=3))
    upload = report(
        "ada@example.com,,20,2026-05-12 15:30,2026-05-12 15:50,1\n",
        *others(BATCH + 500),
        "ada@example.com,Ada Lovelace,25,2026-05-12 15:01,2026-05-12 15:26,2\n",
        "ada@example.com,Someone Else,10,2026-05-12 16:00,2026-05-12 16:10,0\n",
    )

    summary = import_attendance(event, upload)

    assert summary.counts() == {"attended": 1, "no_show": 0, "unmatched": BATCH + 500}
    ada = registration_of(event.id, "ada@example.com")
    assert ada.attended_minutes == 55
    assert ada.questions_asked == 3
    # The event's zone is UTC: the earliest join and the latest leave of the three rows.
    assert ada.joined_at == datetime(2026, 5, 12, 15, 1, tzinfo=UTC)
    assert ada.left_at == datetime(2026, 5, 12, 16, 10, tzinfo=UTC)
    assert kept_rows() == (0, 0)


def test_a_walk_in_is_named_by_the_first_name_their_rows_give_and_speaks_the_events_language(
    app,
):
    event = make_event(slug="named", starts_at=STARTS, language="de")
    upload = report(
        "grace@example.com,,20,,,0\n",
        *others(BATCH + 10),
        "grace@example.com,Grace Hopper,5,,,0\n",
        "grace@example.com,G. Hopper,5,,,0\n",
    )

    import_attendance(event, upload)

    grace = registration_of(event.id, "grace@example.com")
    assert (grace.status, grace.first_name, grace.last_name) == ("walk_in", "Grace", "Hopper")
    assert grace.attended_minutes == 30
    assert grace.language == "de"


def test_every_walk_in_of_a_large_report_gets_a_lead_and_a_registration_once(app):
    event = make_event(slug="walk-ins", starts_at=STARTS, capacity=10)
    earlier = make_event(slug="earlier", starts_at=STARTS - timedelta(days=30))
    register_person(earlier, "other00007@example.org", now=STARTS - timedelta(days=40))
    upload = "".join(others(2 * BATCH + 3))

    first = import_attendance(event, report(upload))
    again = import_attendance(event, report(upload))

    assert (
        first.counts()
        == again.counts()
        == {
            "attended": 0,
            "no_show": 0,
            "unmatched": 2 * BATCH + 3,
        }
    )
    walk_ins = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status == "walk_in")
    )
    assert walk_ins == 2 * BATCH + 3
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2 * BATCH + 3
    # Someone already a lead keeps it: its first touch stays the earlier event's.
    known = db.session.scalar(select(Lead).where(Lead.email == "other00007@example.org"))
    assert known is not None
    assert (known.first_event_id, known.latest_event_id) == (earlier.id, event.id)
    assert registration_of(event.id, "other00007@example.org").lead_id == known.id
    assert db.session.get(type(event), event.id).seats_taken == 0


def test_a_kept_upload_is_previewed_with_exact_counts_and_its_first_rows(app):
    event = make_event(slug="preview", starts_at=STARTS, capacity=None)
    for n in range(5):
        register_person(event, f"other{n:05d}@example.org", now=STARTS - timedelta(days=1))
    register_person(event, "absent@example.com", now=STARTS - timedelta(days=1))

    kept = keep_upload(event, report(*others(BATCH + 20)), owner_id=None)
    preview = preview_attendance(event, kept, shown=3)

    assert preview.counts == {"attended": 5, "no_show": 1, "unmatched": BATCH + 15}
    assert preview.people == BATCH + 20
    assert [item.registration.email for item in preview.matched] == [
        "other00000@example.org",
        "other00001@example.org",
        "other00002@example.org",
    ]
    assert len(preview.unmatched) == 3
    assert [row.email for row in preview.no_shows] == ["absent@example.com"]
    # Previewing writes nothing to the registrations.
    assert registration_of(event.id, "other00000@example.org").attended_minutes is None
    assert kept_rows() == (1, BATCH + 20)
