"""The events API: listing, creating, reading, changing and cancelling events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Campaign, Event
from app.registrations.models import Registration
from tests.builders import bearer, make_event, make_user, register_person
from tests.contract import EVENT_FIELDS


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def new_event(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "slug": "pricing-deep-dive",
        "title": "Pricing deep dive",
        "description": "How the **new** plans work.",
        "starts_at": "2031-03-04T16:00:00+01:00",
        "duration_minutes": 45,
        "timezone": "Europe/Paris",
        "capacity": 100,
        "waitlist": False,
        "join_url": "https://meet.example.com/pricing",
        "campaign": "Spring launch",
    }
    body.update(overrides)
    return body


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("admin"))


def test_public_list_shows_published_events_only(client, app):
    make_event(slug="open-day")
    make_event(slug="secret-plan", status="draft")
    response = client.get("/api/v1/events")
    assert response.status_code == 200
    body = response.json
    assert [item["slug"] for item in body["items"]] == ["open-day"]
    assert body["total"] == 1 and body["next"] is None
    staff_only = {"join_url", "platform_webinar_id", "embed_origins"}
    assert set(body["items"][0]) == EVENT_FIELDS - staff_only


def test_staff_list_shows_every_event_and_filters_by_status(client, app):
    make_event(slug="open-day")
    make_event(slug="secret-plan", status="draft")
    rep = bearer(make_user("rep"))
    every = client.get("/api/v1/events", headers=rep).json
    assert {item["slug"] for item in every["items"]} == {"open-day", "secret-plan"}
    drafts = client.get("/api/v1/events?status=draft", headers=rep).json
    assert [item["slug"] for item in drafts["items"]] == ["secret-plan"]


def test_public_status_filter_never_reveals_drafts(client, app):
    make_event(slug="secret-plan", status="draft")
    assert client.get("/api/v1/events?status=draft").json["items"] == []


def test_creating_an_event_answers_201_with_every_event_field(client, admin):
    response = client.post("/api/v1/events", json=new_event(), headers=admin)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == EVENT_FIELDS
    assert body["status"] == "draft"
    assert body["starts_at"] == "2031-03-04T15:00:00+00:00"
    assert body["campaign"] == "Spring launch"
    assert body["price_cents"] == 0 and body["currency"] == "USD"
    event = db.session.scalars(select(Event)).one()
    assert event.duration_minutes == 45
    assert event.ends_at - event.starts_at == timedelta(minutes=45)


def test_an_event_can_be_published_at_creation(client, admin):
    response = client.post("/api/v1/events", json=new_event(status="published"), headers=admin)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "published"
    assert client.get("/api/v1/events").json["total"] == 1


def test_a_refused_publication_at_creation_saves_nothing(client, admin):
    body = new_event(status="published", join_url=None, campaign="Brand new campaign")
    response = client.post("/api/v1/events", json=body, headers=admin)
    assert response.status_code == 422
    assert "join_url" in response.json["error"]["fields"]
    assert count(Event) == 0
    assert count(Campaign) == 0


def test_a_naive_start_time_is_refused_naming_starts_at(client, admin):
    response = client.post(
        "/api/v1/events", json=new_event(starts_at="2031-03-04T16:00:00"), headers=admin
    )
    assert response.status_code == 422
    assert "UTC offset" in response.json["error"]["fields"]["starts_at"]
    assert count(Event) == 0


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timezone", "Mars/Olympus", "IANA time zone"),
        ("currency", "EURO", "ISO 4217"),
        ("currency", "ZZZ", "ISO 4217"),
        ("currency", " ", "blank"),
        ("duration_minutes", 0, "whole number"),
        ("duration_minutes", "60", "integer"),
        ("capacity", -1, "from 0 to 1000000"),
        ("price_cents", 1.5, "integer"),
        ("join_url", "meet.example.com/x", "https://"),
        ("starts_at", "next tuesday", "ISO 8601"),
        ("starts_at", "9999-12-31T23:00:00-05:00", "between the years"),
        ("title", "   ", "blank"),
        ("title", "x" * 201, "at most 200"),
        ("slug", "Not A Slug", "lower-case"),
        ("slug", "a" * 81, "at most 80"),
        ("title", "Null\u0000byte", "control characters"),
        ("status", "archived", "draft or published"),
        ("waitlist", "perhaps", "boolean"),
        ("colour", "blue", "not part of this call"),
    ],
)
def test_bad_event_fields_are_refused_naming_the_field(client, admin, field, value, words):
    response = client.post("/api/v1/events", json=new_event(**{field: value}), headers=admin)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert words in error["fields"][field]
    assert count(Event) == 0


def test_a_slug_already_in_use_is_refused_naming_slug(client, admin):
    make_event(slug="pricing-deep-dive")
    response = client.post("/api/v1/events", json=new_event(), headers=admin)
    assert response.status_code == 422
    assert "already uses" in response.json["error"]["fields"]["slug"]
    assert count(Event) == 1


def test_a_paid_event_needs_stripe_before_it_is_published(client, admin):
    body = new_event(price_cents=4900, currency="eur", status="published")
    response = client.post("/api/v1/events", json=body, headers=admin)
    assert response.status_code == 422
    assert "Stripe" in response.json["error"]["fields"]["price_cents"]
    draft = client.post("/api/v1/events", json={**body, "status": "draft"}, headers=admin)
    assert draft.status_code == 201
    assert (draft.json["price_cents"], draft.json["currency"]) == (4900, "EUR")


def test_staff_read_one_event_in_any_status(client, app):
    make_event(slug="secret-plan", status="draft")
    response = client.get("/api/v1/events/secret-plan", headers=bearer(make_user("rep")))
    assert response.status_code == 200
    assert response.json["status"] == "draft"


def test_unknown_slugs_answer_404_in_json(client, admin):
    for method, path in [
        ("get", "/api/v1/events/nope"),
        ("patch", "/api/v1/events/nope"),
        ("post", "/api/v1/events/nope/cancel"),
    ]:
        response = getattr(client, method)(
            path, json={} if method == "patch" else None, headers=admin
        )
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"


def test_patch_changes_only_the_fields_given(client, admin, event):
    response = client.patch(
        "/api/v1/events/launch-webinar",
        json={"title": "Launch webinar, part 2", "capacity": None, "location": "Berlin, Hall 3"},
        headers=admin,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["title"] == "Launch webinar, part 2"
    assert body["location"] == "Berlin, Hall 3"
    assert body["capacity"] is None
    assert body["timezone"] == "Europe/Berlin"


def test_moving_an_event_raises_every_registrants_invite_sequence(client, admin, event):
    registration = register_person(event, "ada@example.com")
    before = registration.invite_sequence
    later = (event.starts_at + timedelta(hours=2)).isoformat()
    response = client.patch(
        "/api/v1/events/launch-webinar", json={"starts_at": later}, headers=admin
    )
    assert response.status_code == 200, response.json
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).invite_sequence == before + 1


def test_patching_status_to_cancelled_points_to_the_cancel_call(client, admin, event):
    response = client.patch(
        "/api/v1/events/launch-webinar", json={"status": "cancelled"}, headers=admin
    )
    assert response.status_code == 422
    assert "cancel action" in response.json["error"]["fields"]["status"]
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "published"


def test_a_refused_patch_changes_nothing(client, admin, event):
    closes = (event.ends_at + timedelta(days=1)).isoformat()
    response = client.patch(
        "/api/v1/events/launch-webinar",
        json={"title": "Renamed", "registration_closes_at": closes},
        headers=admin,
    )
    assert response.status_code == 422
    assert "registration_closes_at" in response.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "Launch webinar"


def test_cancelling_cancels_the_event_and_its_registrations_stay(client, admin, event):
    register_person(event, "ada@example.com")
    response = client.post("/api/v1/events/launch-webinar/cancel", headers=admin)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    again = client.post("/api/v1/events/launch-webinar/cancel", headers=admin)
    assert again.status_code == 200 and again.json["status"] == "cancelled"
    assert client.get("/api/v1/events").json["items"] == []


def test_event_list_pages_follow_next_links(client, app):
    start = utcnow() + timedelta(days=2)
    for number in range(5):
        make_event(slug=f"event-{number}", starts_at=start + timedelta(hours=number))
    first = client.get("/api/v1/events?limit=2").json
    assert [item["slug"] for item in first["items"]] == ["event-0", "event-1"]
    assert first["total"] == 5
    assert first["next"].startswith("http://testserver/api/v1/events?")
    seen = [item["slug"] for item in first["items"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json
        seen += [item["slug"] for item in page["items"]]
    assert seen == [f"event-{number}" for number in range(5)]
