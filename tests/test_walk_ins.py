"""Walk-ins: people an attendance report places in the room who never registered become leads
marked as walk-ins, hold no seat, are sent nothing, and are routed like attendees."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.followup.attendance import import_attendance
from app.followup.routing import route_followups
from app.mail.models import OutboxMessage
from app.registrations.models import Lead, Registration
from tests.builders import bearer, csrf_token, log_in, make_event, make_user, register_person
from tests.followup_fixtures import after, attend, followup_of, make_rep
from tests.test_attendance_console import APPLY, PAGE, TOKEN_INPUT
from tests.test_attendance_console import upload as upload_in_console
from tests.test_attendance_import import FIXTURES, webinar_with_registrants

URL = "/api/v1/events/launch-webinar/attendance"
WALK_IN = "walkin@example.org"


@pytest.fixture
def webinar(app) -> Event:  # type: ignore[no-untyped-def]
    return webinar_with_registrants()


@pytest.fixture
def marketer_headers(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_user("marketer"))


def upload(client, headers, name: str = "zoom_webinar_attendee_report.csv"):  # type: ignore[no-untyped-def]
    with (FIXTURES / name).open("rb") as handle:
        return client.post(URL, headers=headers, data={"file": (handle, name)})


def walk_in_row(event: Event, email: str = WALK_IN) -> Registration | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email_normalized == email
        )
    )


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_an_unregistered_attendee_becomes_a_walk_in_lead_still_counted_as_unmatched(
    client, webinar, marketer_headers
):
    seats_before = webinar.seats_taken
    mail_before = count(OutboxMessage)

    response = upload(client, marketer_headers)

    assert response.status_code == 200, response.json
    assert response.json == {"attended": 3, "no_show": 2, "unmatched": 1}
    row = walk_in_row(webinar)
    assert row is not None
    assert row.status == "walk_in"
    assert row.is_walk_in and not row.holds_seat
    assert row.attended and row.attended_minutes == 30
    assert (row.first_name, row.last_name) == ("Walk", "In")
    lead = db.session.scalar(select(Lead).where(Lead.email == WALK_IN))
    assert lead is not None and row.lead_id == lead.id
    assert lead.first_event_id == webinar.id
    assert db.session.get(Event, webinar.id).seats_taken == seats_before
    # No confirmation, invite or anything else goes to someone who never asked for it.
    assert count(OutboxMessage) == mail_before
    assert (
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == WALK_IN)) is None
    )


def test_the_api_and_the_csv_show_the_walk_in_status_and_filter_by_it(
    client, webinar, marketer_headers
):
    upload(client, marketer_headers)

    listed = client.get(
        "/api/v1/events/launch-webinar/registrations?status=walk_in", headers=marketer_headers
    )
    assert listed.status_code == 200, listed.json
    assert [(item["email"], item["status"]) for item in listed.json["items"]] == [
        (WALK_IN, "walk_in")
    ]

    staff = make_user("marketer")
    log_in(client, staff)
    csv_text = client.get("/admin/events/launch-webinar/registrations.csv?status=walk_in").text
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert [(row["email"], row["status"]) for row in rows] == [(WALK_IN, "walk_in")]
    table = client.get("/admin/events/launch-webinar/registrations").text
    assert "badge-walk_in" in table
    assert ">walk-in<" in table


def test_applying_the_same_report_again_creates_nothing_new(client, webinar, marketer_headers):
    first = upload(client, marketer_headers)
    registrations, leads = count(Registration), count(Lead)
    row = walk_in_row(webinar)
    assert row is not None
    updated_at = row.updated_at

    second = upload(client, marketer_headers)

    assert second.json == first.json
    assert (count(Registration), count(Lead)) == (registrations, leads)
    again = walk_in_row(webinar)
    assert again is not None and again.id == row.id and again.updated_at == updated_at


def test_a_later_report_without_them_clears_their_attendance(client, webinar, marketer_headers):
    upload(client, marketer_headers)

    import_attendance(webinar, io.BytesIO(b"email,minutes\nada@example.com,20\n"))

    row = walk_in_row(webinar)
    assert row is not None and row.status == "walk_in"
    assert row.attended_minutes is None and not row.attended


def test_a_walk_in_is_routed_to_a_rep_and_listed_with_a_badge(client, webinar, marketer_headers):
    rep = make_rep("rita@example.com")
    upload(client, marketer_headers)

    result = route_followups(webinar.id, now=after(webinar))

    followup = followup_of(WALK_IN, webinar)
    assert followup.rep_id == rep.id
    assert followup.attended_minutes == 30
    assert followup.registration_id == walk_in_row(webinar).id  # type: ignore[union-attr]
    assert result.by_rep[rep.email] >= 1
    lead = db.session.scalar(select(Lead).where(Lead.email == WALK_IN))
    assert lead is not None and lead.owner_id == rep.id and lead.status == "open"

    log_in(client, rep)
    listing = client.get("/followups").text
    assert WALK_IN in listing and "badge-walk_in" in listing
    detail = client.get(f"/followups/{followup.id}").text
    assert "badge-walk_in" in detail and "walk-in" in detail


def test_walk_ins_are_scored_by_their_minutes_and_questions_like_attendees(app):
    event = make_event(starts_at=utcnow() - timedelta(days=1), duration_minutes=60)
    register_person(event, "listener@example.com")
    make_rep("rita@example.com")
    attend(event, {"listener@example.com": 55, "stranger@example.com": 55})

    route_followups(event.id, now=after(event))

    walk_in, registrant = followup_of("stranger@example.com"), followup_of("listener@example.com")
    assert (walk_in.score, walk_in.priority) == (registrant.score, registrant.priority)
    assert walk_in.score > 0


def test_the_console_import_makes_walk_ins_too(client, webinar):
    log_in(client, make_user("marketer"))
    preview = upload_in_console(client).text
    assert "followed up like the other attendees" in preview

    response = client.post(
        APPLY,
        data={"csrf_token": csrf_token(preview), "token": TOKEN_INPUT.search(preview).group(1)},  # type: ignore[union-attr]
    )

    assert response.status_code == 303
    row = walk_in_row(webinar)
    assert row is not None and row.status == "walk_in" and row.attended_minutes == 30
    again = upload_in_console(client).text
    # Already a walk-in from the first import: the preview says so, and still counts them.
    assert 'id="count-unmatched">1<' in again
    assert "badge-walk_in" in again
    assert PAGE in response.headers["Location"]


def test_walk_ins_never_take_a_seat_so_a_nearly_full_event_stays_bookable(app):
    event = make_event(capacity=3, waitlist=True)
    register_person(event, "first@example.com")
    import_attendance(
        event, io.BytesIO(b"email,minutes\nfirst@example.com,10\nextra@example.com,9\n")
    )

    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 1
    seated = [register_person(event, f"late{n}@example.com").status for n in range(3)]

    assert seated == ["confirmed", "confirmed", "waitlisted"]
    assert db.session.get(Event, event.id).seats_taken == 3


def test_a_walk_in_who_registers_afterwards_gets_a_real_registration(app):
    event = make_event(capacity=2)
    import_attendance(event, io.BytesIO(b"email,minutes\nearly@example.com,10\n"))
    row = walk_in_row(event, "early@example.com")
    assert row is not None and row.status == "walk_in"

    registration = register_person(event, "early@example.com")

    assert registration.id == row.id
    assert registration.status == "confirmed"
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 1


def test_cancelling_a_walk_in_changes_nothing_and_sends_nothing(client, webinar, marketer_headers):
    upload(client, marketer_headers)
    row = walk_in_row(webinar)
    assert row is not None
    log_in(client, make_user("marketer"))
    table = client.get("/admin/events/launch-webinar/registrations").text
    mail_before = count(OutboxMessage)

    response = client.post(
        f"/admin/events/launch-webinar/registrations/{row.id}/cancel",
        data={"csrf_token": csrf_token(table)},
        follow_redirects=True,
    )

    assert "there is nothing to cancel" in response.text
    again = walk_in_row(webinar)
    assert again is not None and again.status == "walk_in"
    assert count(OutboxMessage) == mail_before
