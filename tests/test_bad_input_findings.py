"""Each input that used to answer 500 now gets a clear 4xx (or a row warning) naming what is
wrong, and changes nothing: a slug already taken, correctly signed but malformed Stripe events,
attendance times in year 9999 and attendance files crafted to cost minutes of CPU."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from sqlalchemy import select

from app import spreadsheet
from app.db import db
from app.events.models import Event
from app.followup.attendance import MAX_COLUMNS, AttendanceFileError, read_report
from app.payments.models import Payment, StripeEvent
from tests.builders import bearer, csrf_token, log_in, make_event, make_user, register_person
from tests.fake_stripe import FakeStripe
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    deliver,
    make_paid_event,
    payment_of,
    register_via_api,
    status_of,
)

# A slug that is taken --------------------------------------------------------------------------


def test_changing_a_slug_to_a_taken_one_through_the_api_is_a_422_on_slug(client, event):
    make_event(slug="taken")
    response = client.patch(
        f"/api/v1/events/{event.slug}", json={"slug": "taken"}, headers=bearer(make_user())
    )
    assert response.status_code == 422, response.text
    assert response.json["error"]["fields"] == {"slug": "Another event already uses this address."}
    db.session.expire_all()
    assert db.session.get(Event, event.id).slug == "launch-webinar"


def test_creating_an_event_with_a_taken_slug_is_a_422_on_slug(client, event):
    body = {
        "slug": event.slug,
        "title": "Again",
        "starts_at": "2030-05-04T13:00:00Z",
        "duration_minutes": 60,
        "timezone": "UTC",
    }
    response = client.post("/api/v1/events", json=body, headers=bearer(make_user()))
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"slug"}


def test_changing_a_slug_to_a_taken_one_in_the_console_shows_the_form_again(client, event):
    make_event(slug="taken")
    log_in(client, make_user("marketer"))
    path = f"/admin/events/{event.slug}/edit"
    page = client.get(path)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(page.text),
            "title": "Launch webinar",
            "slug": "taken",
            "description": "",
            "timezone": "Europe/Berlin",
            "starts_at": "2030-07-01T10:00",
            "duration_minutes": "45",
            "capacity": "",
            "waitlist": "y",
            "price": "",
            "currency": "USD",
            "join_url": "https://meet.example.com/launch",
            "location": "",
            "campaign": "",
            "registration_closes_at": "",
        },
    )
    assert response.status_code == 422
    assert "Another event already uses this address." in response.text.split('id="slug-error"')[1]
    db.session.expire_all()
    assert db.session.get(Event, event.id).slug == "launch-webinar"


def test_the_unique_index_still_decides_when_the_check_is_raced(app, event):
    """Two saves at once both pass the check; the second write's violation is the same
    field error, not a 500."""
    from app.events.services import EventRejected, update_event

    other = make_event(slug="other")
    # As if the check had passed: the row is changed underneath, then flushed.
    db.session.execute(Event.__table__.update().where(Event.id == other.id).values(slug="race"))
    with pytest.raises(EventRejected) as rejected:
        update_event(event, {"slug": "race", "title": "x"})
    assert "slug" in rejected.value.fields


# Signed but malformed Stripe events ------------------------------------------------------------


@pytest.fixture
def held(client, fake_stripe: FakeStripe) -> tuple[int, dict[str, Any]]:
    """A held seat and the session Stripe keeps for it."""
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    session = fake_stripe.sessions[payment_of(body["id"]).checkout_session_id]
    return body["id"], session


def _paid(session: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(session) | {"status": "complete", "payment_status": "paid"}
    changed.update(changes)
    return changed


MALFORMED_SESSIONS = [
    {"amount_total": "4900"},
    {"amount_total": 4900.5},
    {"amount_total": 10**20},
    {"metadata": "registration 1"},
    {"metadata": {"registration_id": 1}},
    {"payment_intent": 42},
    {"status": ["complete"]},
    {"expires_at": 10**20},
    {"currency": {"code": "eur"}},
]


@pytest.mark.parametrize("changes", MALFORMED_SESSIONS, ids=lambda c: next(iter(c)))
def test_a_signed_session_event_of_the_wrong_shape_is_a_400_changing_nothing(
    client, fake_stripe, held, changes
):
    registration_id, session = held
    event = fake_stripe.event("checkout.session.completed", _paid(session, **changes))
    status, answer = deliver(client, fake_stripe, event)
    assert status == 400, answer
    assert b"malformed_event" in answer
    assert status_of(registration_id) == "pending_payment"
    assert db.session.scalars(select(StripeEvent)).all() == []
    # Stripe's corrected delivery is then handled as usual.
    status, _ = deliver(
        client, fake_stripe, fake_stripe.event("checkout.session.completed", _paid(session))
    )
    assert status == 200
    assert status_of(registration_id) == "confirmed"


@pytest.mark.parametrize(
    "registration_id", ["abc", "99999999999999999999", "١٢", "-1", ""], ids=repr
)
def test_a_metadata_registration_id_that_is_not_ours_finds_nothing(
    client, fake_stripe, held, registration_id
):
    _, session = held
    unknown = _paid(session, id="cs_not_recorded")
    unknown["metadata"] = {"registration_id": registration_id, "attempt_key": "x"}
    status, answer = deliver(
        client, fake_stripe, fake_stripe.event("checkout.session.completed", unknown)
    )
    assert status == 200, answer
    assert b"unknown session" in answer


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_1", "type": "checkout.session.completed", "data": "nothing"},
        {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": []}},
        {"id": "evt_1", "type": "checkout.session.completed"},
        {"id": 7, "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_1", "type": ["x"], "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_\x00", "type": "charge.refunded", "data": {"object": {"id": "ch_1"}}},
    ],
)
def test_a_signed_body_that_is_not_an_event_is_a_400(client, fake_stripe, body):
    status, answer = deliver(client, fake_stripe, body)
    assert status == 400, answer
    assert db.session.scalars(select(StripeEvent)).all() == []


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": "all"}),
        ("charge.refunded", {"id": "ch_1", "payment_intent": ["pi_1"]}),
        ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_\x00"}),
        ("refund.updated", {"id": "re_\x00", "status": "failed"}),
        ("refund.failed", {"id": "re_1", "status": "failed", "amount": "100"}),
    ],
)
def test_signed_refund_news_of_the_wrong_shape_is_a_400(client, fake_stripe, kind, obj):
    status, answer = deliver(client, fake_stripe, fake_stripe.event(kind, obj))
    assert status == 400, answer
    assert db.session.scalars(select(Payment)).all() == []


# Attendance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["12/31/9999 11:59:59 PM", "9999-12-31T23:59:59", "Dec 31, 9999 11:59 PM"]
)
def test_an_attendance_time_in_year_9999_is_a_row_warning(app, event, when):
    register_person(event, "ada@example.com")
    data = f"email,join time,leave time\nada@example.com,{when},{when}\n".encode()
    report = read_report(io.BytesIO(data), event)
    assert any("is not a date and time" in warning for warning in report.warnings)


def test_an_attendance_time_in_year_9999_through_the_api_and_console_is_not_a_500(client, event):
    data = b"email,join time,minutes\nada@example.com,12/31/9999 11:59:59 PM,30\n"
    response = client.post(
        f"/api/v1/events/{event.slug}/attendance",
        data={"file": (io.BytesIO(data), "report.csv")},
        content_type="multipart/form-data",
        headers=bearer(make_user("marketer")),
    )
    assert response.status_code == 200, response.text
    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}/attendance")
    preview = client.post(
        f"/admin/events/{event.slug}/attendance",
        data={"csrf_token": csrf_token(page.text), "report": (io.BytesIO(data), "r.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert "is not a date and time" in preview.text


def test_a_file_of_quotes_and_line_breaks_is_refused_not_sniffed_for_a_minute(app, event):
    # 64 KB of this cost csv.Sniffer 37 s of CPU; the timing lives in bench/attendance_parse.py.
    with pytest.raises(AttendanceFileError) as refused:
        read_report(io.BytesIO(b'"\n' * 32 * 1024), event)
    assert "Expected a Zoom or GoToWebinar attendee report" in refused.value.message


def test_the_separator_is_decided_from_a_bounded_number_of_lines(app, event):
    lines = ["email;minutes"] + [f"p{n}@example.com;{n % 60},5" for n in range(1000)]
    dialect = spreadsheet.dialect_of("\n".join(lines))
    assert dialect.delimiter == ";"
    assert spreadsheet.SNIFF_LINES <= 200


def test_rows_wider_than_any_report_are_refused_naming_the_line(app, event):
    data = b"email,minutes\n" + b"a@example.com,1" + b",x" * MAX_COLUMNS + b"\n"
    with pytest.raises(AttendanceFileError) as refused:
        read_report(io.BytesIO(data), event)
    assert refused.value.message.startswith("Line 2 has")


def test_an_overlong_time_cell_is_a_row_warning_not_a_parse(app, event):
    data = b"email,join time,minutes\na@example.com,May " + b"9" * 5000 + b",30\n"
    report = read_report(io.BytesIO(data), event)
    assert report.rows == 1
    assert any("is not a date and time" in warning for warning in report.warnings)
