"""An event's registrations in the console: search, filter, sort and pages; cancel, promote, add
by hand and check in; and the CSV export, safe for spreadsheets and streamed."""

from __future__ import annotations

import csv
import io
import re
import secrets
import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.admin.tables import PAGE_SIZE, spreadsheet_safe
from app.db import db, utcnow
from app.events.models import Event
from app.events.services import update_event
from app.registrations.models import Registration
from tests.builders import (
    counting_queries,
    csrf_token,
    make_event,
    register_person,
)


def bulk_registrations(event: Event, count: int, **columns) -> None:  # type: ignore[no-untyped-def]
    """`count` registrations in one multi-row insert, as a big import would leave them."""
    lead_id = register_person(event, f"seed@{event.slug}.example").lead_id
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "lead_id": lead_id,
            "email": f"person{n:05d}@example.com",
            "email_normalized": f"person{n:05d}@example.com",
            "first_name": f"First{n:05d}",
            "last_name": f"Last{n:05d}",
            "company": f"Company {n % 100}",
            "job_title": "",
            "answers": {},
            "consent_marketing": False,
            "status": "confirmed" if n % 10 else "waitlisted",
            "manage_token": secrets.token_hex(16),
            "invite_uid": f"{secrets.token_hex(16)}@test",
            "invite_sequence": 0,
            "questions_asked": 0,
            "created_at": now - timedelta(seconds=n),
            "updated_at": now,
            **columns,
        }
        for n in range(count)
    ]
    db.session.execute(Registration.__table__.insert(), rows)
    db.session.commit()


def emails_on(html: str) -> list[str]:
    return re.findall(r'<span class="sub email">([^<]+)</span>', html)


# The table


def test_the_table_finds_people_by_email_name_or_company_whatever_the_case(staff):
    event = make_event()
    register_person(event, "ada@analytical.example", first_name="Ada", last_name="Lovelace")
    register_person(event, "grace@navy.example", first_name="Grace", company="US Navy")
    register_person(event, "alan@bletchley.example", first_name="Alan", last_name="Turing")
    base = "/admin/events/launch-webinar/registrations"
    assert emails_on(staff.get(base + "?q=NAVY").get_data(as_text=True)) == ["grace@navy.example"]
    assert emails_on(staff.get(base + "?q=ada+love").get_data(as_text=True)) == [
        "ada@analytical.example"
    ]
    assert emails_on(staff.get(base + "?q=bletchley").get_data(as_text=True)) == [
        "alan@bletchley.example"
    ]
    assert len(emails_on(staff.get(base).get_data(as_text=True))) == 3


def test_percent_and_underscore_in_a_search_are_plain_characters(staff):
    event = make_event()
    register_person(event, "a_b@example.com")
    register_person(event, "axb@example.com")
    html = staff.get("/admin/events/launch-webinar/registrations?q=a_b").get_data(as_text=True)
    assert emails_on(html) == ["a_b@example.com"]
    html = staff.get("/admin/events/launch-webinar/registrations?q=%25").get_data(as_text=True)
    assert emails_on(html) == []


def test_the_table_filters_by_status_and_counts_each_status(staff):
    event = make_event(capacity=1)
    register_person(event, "seated@example.com")
    register_person(event, "waiting@example.com")
    html = staff.get("/admin/events/launch-webinar/registrations?status=waitlisted").get_data(
        as_text=True
    )
    assert emails_on(html) == ["waiting@example.com"]
    assert re.search(r"Confirmed <span class=\"count\">1</span>", html)
    assert re.search(r"Waitlisted <span class=\"count\">1</span>", html)


def test_the_table_sorts_by_a_column_both_ways(staff):
    event = make_event()
    for last in ("Baker", "Adams", "Clark"):
        register_person(event, f"{last.lower()}@example.com", first_name="X", last_name=last)
    base = "/admin/events/launch-webinar/registrations?sort=name"
    ascending = emails_on(staff.get(base + "&dir=asc").get_data(as_text=True))
    descending = emails_on(staff.get(base + "&dir=desc").get_data(as_text=True))
    assert ascending == ["adams@example.com", "baker@example.com", "clark@example.com"]
    assert descending == list(reversed(ascending))


def test_odd_query_arguments_fall_back_instead_of_failing(staff):
    make_event()
    for query in (
        "page=-3",
        "page=abc",
        "page=99999999999",
        "sort=password_hash",
        "dir=sideways",
        "status=everything",
        "q=%00%01",
        "q=" + "x" * 5000,
    ):
        response = staff.get(f"/admin/events/launch-webinar/registrations?{query}")
        assert response.status_code == 200, query


def test_names_with_markup_are_shown_as_text(staff):
    event = make_event()
    register_person(
        event,
        "x@example.com",
        first_name="<script>alert(1)</script>",
        company="<img src=x onerror=alert(2)>",
    )
    html = staff.get("/admin/events/launch-webinar/registrations").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# Actions


def _act(client, path, **data):  # type: ignore[no-untyped-def]
    table = client.get("/admin/events/launch-webinar/registrations").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(table), **data})


def test_cancelling_a_registration_gives_its_seat_to_the_waitlist(staff):
    event = make_event(capacity=1)
    seated = register_person(event, "seated@example.com")
    waiting = register_person(event, "waiting@example.com")
    response = _act(
        staff,
        f"/admin/events/launch-webinar/registrations/{seated.id}/cancel",
        back="/admin/events/launch-webinar/registrations?status=confirmed",
    )
    assert response.status_code == 303
    assert (
        response.headers["Location"]
        == "/admin/events/launch-webinar/registrations?status=confirmed"
    )
    db.session.expire_all()
    assert (seated.status, waiting.status) == ("cancelled", "confirmed")
    html = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "waiting@example.com moved up from the waitlist" in html


def test_the_back_link_after_an_action_never_leaves_the_table(staff):
    event = make_event()
    person = register_person(event, "a@example.com")
    response = _act(
        staff,
        f"/admin/events/launch-webinar/registrations/{person.id}/cancel",
        back="https://evil.example/",
    )
    assert response.headers["Location"] == "/admin/events/launch-webinar/registrations"


def test_promoting_gives_a_seat_to_that_person_when_one_is_free(staff):
    event = make_event(capacity=1)
    register_person(event, "seated@example.com")
    first = register_person(event, "first@example.com")
    second = register_person(event, "second@example.com")
    path = f"/admin/events/launch-webinar/registrations/{second.id}/promote"
    refused = _act(staff, path)
    assert refused.status_code == 303
    assert "There is no free seat" in staff.get(refused.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert second.status == "waitlisted"
    update_event(db.session.get(Event, event.id), {"capacity": 2})
    _act(staff, path)
    db.session.expire_all()
    assert (first.status, second.status) == ("waitlisted", "confirmed")
    assert db.session.get(Event, event.id).seats_taken == 2


def test_only_a_waitlisted_registration_can_be_promoted(staff):
    event = make_event()
    seated = register_person(event, "seated@example.com")
    response = _act(staff, f"/admin/events/launch-webinar/registrations/{seated.id}/promote")
    html = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only a registration on the waitlist can be promoted." in html
    assert db.session.get(Event, event.id).seats_taken == 1


def test_checking_in_at_an_in_person_event_and_undoing_it(staff):
    event = make_event(location="Main hall, Berlin")
    person = register_person(event, "guest@example.com")
    path = f"/admin/events/launch-webinar/registrations/{person.id}/check-in"
    _act(staff, path)
    db.session.expire_all()
    assert person.checked_in_at is not None
    assert "Undo check-in" in staff.get("/admin/events/launch-webinar/registrations").get_data(
        as_text=True
    )
    _act(staff, path, present="0")
    db.session.expire_all()
    assert person.checked_in_at is None


def test_an_online_event_has_no_check_in(staff):
    event = make_event()
    person = register_person(event, "guest@example.com")
    html = staff.get("/admin/events/launch-webinar/registrations").get_data(as_text=True)
    assert "Check in" not in html
    response = _act(staff, f"/admin/events/launch-webinar/registrations/{person.id}/check-in")
    assert "Check-in is for events with a location." in staff.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    db.session.expire_all()
    assert person.checked_in_at is None


def test_a_registration_of_another_event_is_not_found_here(staff):
    make_event()
    other = make_event(slug="other")
    person = register_person(other, "a@example.com")
    response = _act(staff, f"/admin/events/launch-webinar/registrations/{person.id}/cancel")
    assert response.status_code == 404
    db.session.expire_all()
    assert person.status == "confirmed"


def test_actions_need_the_csrf_token(staff):
    event = make_event()
    person = register_person(event, "a@example.com")
    response = staff.post(f"/admin/events/launch-webinar/registrations/{person.id}/cancel")
    assert response.status_code == 400
    db.session.expire_all()
    assert person.status == "confirmed"


# Adding by hand


def _add(client, slug="launch-webinar", **fields):  # type: ignore[no-untyped-def]
    path = f"/admin/events/{slug}/registrations/new"
    data = {
        "csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
        "email": "walk.in@example.com",
        "first_name": "Walk",
        "last_name": "In",
        "company": "",
        "job_title": "",
        "country": "",
        "phone": "",
    }
    data.update(fields)
    return client.post(path, data=data)


def test_staff_add_someone_by_hand_with_the_same_seat_rules(staff):
    make_event(capacity=1)
    assert _add(staff).status_code == 303
    assert _add(staff, email="late@example.com").status_code == 303
    statuses = dict(db.session.execute(select(Registration.email, Registration.status)).all())
    assert statuses == {"walk.in@example.com": "confirmed", "late@example.com": "waitlisted"}
    again = _add(staff, email="WALK.IN@example.com")
    assert "was already registered; nothing changed" in staff.get(
        again.headers["Location"]
    ).get_data(as_text=True)


def test_staff_may_add_to_a_draft_or_closed_event_but_not_a_cancelled_one(staff):
    make_event(slug="draft", status="draft")
    assert _add(staff, slug="draft").status_code == 303
    closed = make_event(slug="closed")
    update_event(closed, {"registration_closes_at": utcnow() - timedelta(minutes=1)})
    assert _add(staff, slug="closed").status_code == 303
    from app.events.services import cancel_event

    cancel_event(make_event(slug="off"))
    refused = _add(staff, slug="off")
    assert refused.status_code == 409
    assert "This event has been cancelled." in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "Enter the email address."),
        ({"email": "not-an-email"}, "email", "email address"),
        ({"first_name": ""}, "first_name", "Enter the first name."),
        ({"first_name": "A\x00"}, "first_name", "control characters"),
        ({"country": "XX"}, "country", "ISO 3166"),
        ({"phone": "12"}, "phone", ""),
        ({"company": "x" * 201}, "company", "200"),
    ],
)
def test_adding_by_hand_names_bad_input_next_to_the_field(staff, fields, field, message):
    make_event()
    response = _add(staff, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


# Export


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_export_is_a_csv_file_with_a_header_and_every_matching_row(staff):
    event = make_event(capacity=1)
    register_person(event, "seated@example.com", company='Quote "Co", Ltd')
    register_person(event, "waiting@example.com")
    response = staff.get("/admin/events/launch-webinar/registrations.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="launch-webinar-registrations.csv"'
    )
    rows = read_csv(response)
    assert rows[0][:4] == ["id", "registered_at", "status", "email"]
    assert {row[3] for row in rows[1:]} == {"seated@example.com", "waiting@example.com"}
    assert 'Quote "Co", Ltd' in [row[6] for row in rows[1:]]
    waiting_only = read_csv(
        staff.get("/admin/events/launch-webinar/registrations.csv?status=waitlisted")
    )
    assert [row[3] for row in waiting_only[1:]] == ["waiting@example.com"]


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Plain Co", "Plain Co"),
        ("A=B", "A=B"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_a_leading_apostrophe(typed, cell):
    assert spreadsheet_safe(typed) == cell


def test_formulas_typed_by_registrants_are_neutralised_in_the_export(staff):
    event = make_event()
    register_person(event, "x@example.com", first_name="=cmd|'/c calc'!A1", company="@evil")
    rows = read_csv(staff.get("/admin/events/launch-webinar/registrations.csv"))
    person = rows[1]
    assert person[4] == "'=cmd|'/c calc'!A1"
    assert person[6] == "'@evil"


# 50,000 registrations


BIG = 50_000


def test_fifty_thousand_registrations_page_with_a_fixed_number_of_queries(staff):
    event = make_event()
    bulk_registrations(event, BIG)
    db.session.commit()
    base = "/admin/events/launch-webinar/registrations"
    with counting_queries() as first_page:
        html = staff.get(base).get_data(as_text=True)
    assert len(emails_on(html)) == PAGE_SIZE
    assert f"of {BIG + 1:,}" in html
    last = (BIG + 1 + PAGE_SIZE - 1) // PAGE_SIZE
    db.session.commit()
    with counting_queries() as last_page:
        html = staff.get(f"{base}?page={last}&sort=email&dir=asc").get_data(as_text=True)
    assert emails_on(html) == ["seed@launch-webinar.example"]
    db.session.commit()
    with counting_queries() as searched:
        html = staff.get(f"{base}?q=Last04999&status=confirmed").get_data(as_text=True)
    assert emails_on(html) == ["person04999@example.com"]
    counts = {len(first_page), len(last_page), len(searched)}
    assert max(counts) <= 8, counts
    # Counting happens once per page, not once per row.
    assert sum("count(" in statement.lower() for statement in first_page) == 2


def _stream_export(client, slug):  # type: ignore[no-untyped-def]
    """Read a streamed export chunk by chunk; (rows, chunks, bytes, peak memory while reading)."""
    response = client.get(f"/admin/events/{slug}/registrations.csv", buffered=False)
    assert response.is_streamed
    tracemalloc.start()
    try:
        rows = chunks = size = 0
        for chunk in response.response:
            chunks += 1
            size += len(chunk)
            rows += chunk.count(b"\r\n")
            assert b",=1+1," not in chunk
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    return rows, chunks, size, peak


def test_an_export_streams_in_batches_and_its_memory_does_not_grow_with_the_rows(staff):
    small, big = 3_000, 30_000
    bulk_registrations(make_event(slug="small"), small, company="=1+1")
    bulk_registrations(make_event(slug="big"), big, company="=1+1")
    small_rows, _chunks, small_size, small_peak = _stream_export(staff, "small")
    rows, chunks, size, peak = _stream_export(staff, "big")
    assert (small_rows, rows) == (small + 2, big + 2)  # header, the seed and the bulk
    assert chunks > 10
    # Ten times the rows, about the same memory: one batch is held at a time, not the file.
    assert size > 9 * small_size
    assert peak < 2 * small_peak, (peak, small_peak)


def test_the_table_and_export_use_the_event_and_status_index(app):
    """The page's queries filter on event_id (and status), which the index starts with."""
    event = make_event()
    bulk_registrations(event, 200)
    db.session.execute(update(Registration).values(status="confirmed"))
    db.session.commit()
    bind = db.session.get_bind()
    if bind.dialect.name == "sqlite":
        plan = db.session.execute(
            db.text(
                "EXPLAIN QUERY PLAN SELECT count(id) FROM registrations "
                "WHERE event_id = :e AND status = 'confirmed'"
            ),
            {"e": event.id},
        ).all()
        assert any("ix_registrations_event_status_created" in str(row) for row in plan), plan
    else:
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(
            db.text(
                "EXPLAIN SELECT count(id) FROM registrations "
                "WHERE event_id = :e AND status = 'confirmed'"
            ),
            {"e": event.id},
        ).all()
        assert any("ix_registrations_event_status_created" in str(row) for row in plan), plan
        db.session.rollback()
