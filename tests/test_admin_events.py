"""The console's event pages: the list with its counts, create and edit in the event's own time
zone, preview, publish, duplicate and cancel, and what bad input gets back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.events.services import cancel_event
from app.events.signals import event_cancelled
from app.registrations import services
from app.registrations.models import Registration
from tests.builders import (
    counting_queries,
    csrf_token,
    event_form,
    make_event,
    register_person,
)


def only_event() -> Event:
    return db.session.scalars(select(Event)).one()


# The list


def row_cells(html: str, marker: str) -> list[str]:
    """The text of each cell in the table row that holds `marker`."""
    row = html.split(marker, 1)[1].split("</tr>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row.split("</td>")[1:-1]]


def test_the_list_shows_upcoming_and_past_events_with_their_counts(staff):
    upcoming = make_event(slug="upcoming", title="Upcoming one", capacity=2, location="Hall A")
    for email in ("a@example.com", "b@example.com", "c@example.com", "d@example.com"):
        register_person(upcoming, email)
    services.check_in(
        db.session.scalar(select(Registration.id).where(Registration.email == "a@example.com"))
    )
    services.cancel(
        db.session.scalar(select(Registration.id).where(Registration.email == "b@example.com"))
    )
    make_event(slug="past", title="Past one", starts_at=utcnow() - timedelta(days=10))
    html = staff.get("/admin/events").get_data(as_text=True)
    upcoming_part, past_part = html.split('id="past-heading"')
    assert "Upcoming one" in upcoming_part and "Past one" in past_part
    # b cancelled, so c moved up from the waitlist and d is still waiting.
    status, registered, confirmed, waitlisted, attended, capacity = row_cells(
        upcoming_part, "Upcoming one"
    )[1:]
    assert status == "published"
    assert (registered, confirmed, waitlisted, attended, capacity) == ("3", "2", "1", "1", "2")
    assert row_cells(past_part, "Past one")[2:6] == ["0", "0", "0", "0"]


def test_the_list_runs_the_same_number_of_queries_for_one_event_or_many(staff):
    first = make_event(slug="event-0")
    register_person(first, "someone@example.com")
    db.session.commit()  # each count starts from a fresh transaction, as a request does
    with counting_queries() as one:
        assert staff.get("/admin/events").status_code == 200
    for number in range(1, 8):
        event = make_event(slug=f"event-{number}")
        register_person(event, f"person{number}@example.com")
    db.session.commit()
    with counting_queries() as many:
        assert staff.get("/admin/events").status_code == 200
    assert len(many) == len(one)
    assert len(one) <= 7


def test_a_title_with_markup_is_shown_as_text_everywhere(staff):
    make_event(slug="xss", title="<script>alert('t')</script>", campaign="<b>camp</b>")
    for path in ("/admin/events", "/admin/events/xss", "/admin/events/xss/edit"):
        html = staff.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;" in html, path
        assert "<b>camp</b>" not in html, path


# Creating and editing


def test_creating_an_event_stores_the_wall_clock_time_in_utc_as_a_draft(staff):
    response = event_form(staff)
    assert response.status_code == 303
    event = only_event()
    assert event.status == "draft"
    assert event.slug == "spring-product-tour"
    assert event.starts_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)  # CEST is UTC+2
    assert event.ends_at - event.starts_at == timedelta(minutes=45)
    assert event.campaign is not None and event.campaign.name == "Spring 2030"
    assert response.headers["Location"] == "/admin/events/spring-product-tour"


def test_winter_time_in_the_same_zone_is_an_hour_different(staff):
    event_form(staff, starts_at="2030-12-02T10:00")
    assert only_event().starts_at == datetime(2030, 12, 2, 9, 0, tzinfo=UTC)


def test_a_time_skipped_by_the_clocks_going_forward_is_refused_next_to_the_field(staff):
    response = event_form(staff, starts_at="2030-03-31T02:30")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="starts_at-error"' in html
    assert "does not exist on 31 March 2030 in Europe/Berlin" in html
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_time_the_clocks_pass_twice_means_the_first(staff):
    event_form(staff, timezone="America/New_York", starts_at="2030-11-03T01:30")
    assert only_event().starts_at == datetime(2030, 11, 3, 5, 30, tzinfo=UTC)  # still EDT


def test_registration_close_time_is_read_in_the_event_zone_too(staff):
    event_form(staff, registration_closes_at="2030-07-01T09:00")
    assert only_event().registration_closes_at == datetime(2030, 7, 1, 7, 0, tzinfo=UTC)


def test_a_second_event_with_the_same_title_gets_its_own_address(staff):
    event_form(staff)
    event_form(staff)
    slugs = set(db.session.scalars(select(Event.slug)))
    assert slugs == {"spring-product-tour", "spring-product-tour-2"}


def test_editing_shows_the_local_time_and_saves_a_change(staff):
    event_form(staff)
    edit = staff.get("/admin/events/spring-product-tour/edit").get_data(as_text=True)
    assert 'value="2030-07-01T10:00"' in edit
    assert '<option selected value="Europe/Berlin">' in edit
    response = event_form(
        staff,
        path="/admin/events/spring-product-tour/edit",
        slug="spring-product-tour",
        title="Summer product tour",
        starts_at="2030-07-01T11:30",
        timezone="Europe/London",
    )
    assert response.status_code == 303
    event = only_event()
    assert event.title == "Summer product tour"
    assert event.starts_at == datetime(2030, 7, 1, 10, 30, tzinfo=UTC)  # BST is UTC+1
    assert event.timezone == "Europe/London"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Give the event a title."),
        ({"title": "x" * 201}, "title", "200"),
        ({"title": "Tour\x00"}, "title", "control characters"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"timezone": ""}, "timezone", "Choose the event"),
        ({"starts_at": ""}, "starts_at", "Enter the date and time the event starts."),
        ({"starts_at": "next tuesday"}, "starts_at", "Enter a date and time"),
        ({"duration_minutes": "abc"}, "duration_minutes", "whole number of minutes"),
        ({"duration_minutes": "0"}, "duration_minutes", "from 1 to 10080"),
        ({"duration_minutes": "99999999999999999999"}, "duration_minutes", "from 1 to 10080"),
        ({"capacity": "-5"}, "capacity", "from 0 to 1000000"),
        ({"capacity": "ten"}, "capacity", "number of seats"),
        ({"price": "NaN"}, "price", "Enter a price from 0"),
        ({"price": "-1"}, "price", "Enter a price from 0"),
        ({"price": "free"}, "price", "Enter a price such as 49.00"),
        ({"price": "10.5", "currency": "JPY"}, "price", "JPY has no cents"),
        ({"currency": "US1"}, "currency", "three-letter currency"),
        ({"join_url": "javascript:alert(1)"}, "join_url", "https://"),
        ({"join_url": "meet.example.com"}, "join_url", "https://"),
        ({"slug": "Not A Slug!"}, "slug", "lower-case letters"),
        ({"registration_closes_at": "2030-07-02T10:00"}, "registration_closes_at", "before"),
        ({"description": "bad \x07 bell"}, "description", "control characters"),
        ({"location": "Hall\nB"}, "location", "one line"),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_nothing_is_saved(staff, changes, field, message):
    response = event_form(staff, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = html.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error shown next to {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_an_address_already_taken_is_refused_next_to_the_slug(staff):
    make_event(slug="taken")
    response = event_form(staff, slug="taken")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another event already uses this address." in html.split('id="slug-error"', 1)[1]


def test_a_cancelled_event_cannot_be_edited(staff):
    cancel_event(make_event(slug="gone"))
    response = staff.get("/admin/events/gone/edit")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/events/gone"


# Preview and publish


def test_a_draft_previews_with_a_banner_for_staff_only(staff, app):
    make_event(slug="soon", title="Coming soon", status="draft", description="## Agenda")
    preview = staff.get("/admin/events/soon/preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "preview-banner" in html and "not public yet" in html
    assert "<h1>Coming soon</h1>" in html
    assert "<h2>Agenda</h2>" in html
    assert app.test_client().get("/e/soon").status_code == 404
    assert app.test_client().get("/admin/events/soon/preview").status_code == 302


def _publish(client, slug):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(f"/admin/events/{slug}").get_data(as_text=True))
    return client.post(f"/admin/events/{slug}/publish", data={"csrf_token": token})


def test_publishing_a_draft_opens_its_landing_page(staff, app):
    make_event(slug="ready", status="draft")
    response = _publish(staff, "ready")
    assert response.status_code == 303
    assert only_event().status == "published"
    assert app.test_client().get("/e/ready").status_code == 200


def test_a_paid_event_is_not_published_without_stripe_and_the_price_says_why(staff):
    make_event(slug="paid", status="draft", price_cents=4900, currency="EUR")
    response = _publish(staff, "paid")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Stripe is configured" in html.split('id="price-error"', 1)[1].split("</p>", 1)[0]
    assert 'value="49.00"' in html  # the form shows the event as it is
    assert only_event().status == "draft"


def test_an_event_without_a_join_link_or_place_is_not_published(staff):
    make_event(slug="nowhere", status="draft", join_url=None)
    html = _publish(staff, "nowhere").get_data(as_text=True)
    assert "Give a join link or a location" in html.split('id="join_url-error"', 1)[1]
    assert only_event().status == "draft"


def test_publishing_needs_the_csrf_token(staff):
    make_event(slug="ready", status="draft")
    assert staff.post("/admin/events/ready/publish").status_code == 400
    assert only_event().status == "draft"


# Duplicate and cancel


def test_duplicating_makes_a_draft_at_a_new_address_with_nobody_registered(staff):
    original = make_event(slug="webinar", title="Webinar", capacity=30, campaign="Q3")
    register_person(original, "a@example.com")
    token = csrf_token(staff.get("/admin/events/webinar").get_data(as_text=True))
    response = staff.post("/admin/events/webinar/duplicate", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/events/webinar-copy/edit"
    copy = db.session.scalar(select(Event).where(Event.slug == "webinar-copy"))
    assert copy.status == "draft"
    assert (copy.title, copy.capacity, copy.starts_at) == ("Webinar", 30, original.starts_at)
    assert copy.campaign_id == original.campaign_id
    assert copy.seats_taken == 0
    staff.post("/admin/events/webinar/duplicate", data={"csrf_token": token})
    assert db.session.scalar(select(Event.id).where(Event.slug == "webinar-copy-2"))


def test_cancelling_asks_for_confirmation_first(staff):
    event = make_event(slug="talk")
    register_person(event, "a@example.com")
    page = staff.get("/admin/events/talk/cancel")
    html = page.get_data(as_text=True)
    assert "1\n    registrant</strong>" in html or "1 registrant" in " ".join(html.split())
    response = staff.post("/admin/events/talk/cancel", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    assert only_event().status == "published"


def test_a_confirmed_cancellation_cancels_through_the_service_and_its_signal(staff):
    make_event(slug="talk")
    heard = []

    def receiver(sender, **extra):  # type: ignore[no-untyped-def]
        heard.append(sender.slug)

    event_cancelled.connect(receiver)
    try:
        html = staff.get("/admin/events/talk/cancel").get_data(as_text=True)
        response = staff.post(
            "/admin/events/talk/cancel", data={"csrf_token": csrf_token(html), "confirm": "y"}
        )
    finally:
        event_cancelled.disconnect(receiver)
    assert response.status_code == 303
    assert only_event().status == "cancelled"
    assert heard == ["talk"]
    assert "This event is cancelled" in staff.get("/admin/events/talk").get_data(as_text=True)


def test_unknown_and_malformed_event_addresses_are_404(staff):
    assert staff.get("/admin/events/nope").status_code == 404
    assert staff.get("/admin/events/bad%00slug").status_code == 404
    assert staff.get("/admin/events/UPPER").status_code == 404
