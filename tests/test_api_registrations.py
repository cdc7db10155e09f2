"""Registering through the API, and the staff list of an event's registrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.registrations.links import manage_url
from app.registrations.models import Lead, Registration
from tests.builders import bearer, make_event, make_user, register_person

REGISTER = "/api/v1/events/launch-webinar/registrations"


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def person(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "email": "Ada.Lovelace@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "job_title": "Engineer",
        "country": "gb",
        "phone": "020 7946 0018",
        "answers": {"team_size": "11-50", "topics": ["pricing", "api"]},
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "consent_marketing": True,
    }
    body.update(overrides)
    return body


def test_registering_answers_201_with_the_registration_and_its_manage_link(client, event):
    response = client.post(REGISTER, json=person())
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "status", "manage_url", "checkout_url", "created_at"}
    registration = db.session.get(Registration, body["id"])
    assert body["status"] == "confirmed"
    assert body["manage_url"] == manage_url(registration)
    assert body["checkout_url"] is None
    assert body["created_at"].endswith("+00:00")
    assert registration.email_normalized == "ada.lovelace@example.com"
    assert registration.country == "GB"
    assert registration.phone == "+442079460018"
    assert registration.answers == {"team_size": "11-50", "topics": ["pricing", "api"]}
    assert registration.utm_source == "newsletter"
    lead = db.session.scalars(select(Lead)).one()
    assert lead.consent_marketing is True


def test_the_manage_link_opens_the_registrants_page(client, event):
    link = client.post(REGISTER, json=person()).json["manage_url"]
    assert client.get(link.removeprefix("http://testserver")).status_code == 200


def test_registering_again_in_another_case_answers_200_with_the_same_registration(client, event):
    first = client.post(REGISTER, json=person()).json
    again = client.post(REGISTER, json=person(email="ADA.LOVELACE@example.COM", first_name="A"))
    assert again.status_code == 200
    assert again.json["id"] == first["id"]
    assert again.json["status"] == first["status"]
    assert count(Registration) == 1
    assert count(Lead) == 1
    assert db.session.get(Registration, first["id"]).first_name == "Ada"


def test_a_public_repeat_does_not_hand_out_the_manage_link(client, event):
    client.post(REGISTER, json=person())
    again = client.post(REGISTER, json=person())
    assert again.status_code == 200
    assert again.json["manage_url"] is None


def test_a_marketer_repeating_a_registration_gets_the_manage_link(client, event):
    first = client.post(REGISTER, json=person()).json
    again = client.post(REGISTER, json=person(), headers=bearer(make_user("marketer")))
    assert again.status_code == 200
    assert again.json["manage_url"] == first["manage_url"]


def test_a_rep_repeating_a_registration_does_not_get_the_manage_link(client, event):
    client.post(REGISTER, json=person())
    again = client.post(REGISTER, json=person(), headers=bearer(make_user("rep")))
    assert again.status_code == 200
    assert again.json["manage_url"] is None


def test_a_full_event_puts_the_next_registrant_on_the_waitlist(client, app):
    make_event(capacity=1, waitlist=True)
    client.post(REGISTER, json=person(email="first@example.com"))
    response = client.post(REGISTER, json=person(email="second@example.com"))
    assert response.status_code == 201
    assert response.json["status"] == "waitlisted"


def test_a_full_event_without_waitlist_answers_409_and_writes_nothing(client, app):
    make_event(capacity=1, waitlist=False)
    client.post(REGISTER, json=person(email="first@example.com"))
    response = client.post(REGISTER, json=person(email="second@example.com"))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "full" in response.json["error"]["message"]
    assert count(Registration) == 1
    assert count(Lead) == 1


def test_registration_closed_or_event_cancelled_answers_409(client, app):
    make_event(slug="closed-one", registration_closes_at=utcnow() - timedelta(minutes=1))
    event = make_event()
    closed = client.post("/api/v1/events/closed-one/registrations", json=person())
    assert closed.status_code == 409
    assert "closed" in closed.json["error"]["message"]
    db.session.execute(db.update(Event).where(Event.id == event.id).values(status="cancelled"))
    db.session.commit()
    cancelled = client.post(REGISTER, json=person())
    assert cancelled.status_code == 409
    assert "cancelled" in cancelled.json["error"]["message"]
    assert count(Registration) == 0


def test_unknown_and_draft_events_answer_404(client, app):
    make_event(slug="secret-plan", status="draft")
    for slug in ("nope", "secret-plan"):
        response = client.post(f"/api/v1/events/{slug}/registrations", json=person())
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert count(Registration) == 0


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("email", "ada-at-example.com", "@-sign"),
        ("email", "", "cannot be blank"),
        ("first_name", "  ", "cannot be blank"),
        ("first_name", None, "null"),
        ("last_name", "x" * 101, "at most 100"),
        ("country", "Atlantis", "ISO 3166"),
        ("country", "XX", "ISO 3166"),
        ("phone", "12", "phone number"),
        ("phone", "call me maybe", "phone number"),
        ("company", "Acme\u0000Corp", "control characters"),
        ("answers", ["not", "an", "object"], "JSON object"),
        ("utm_source", "u" * 201, "at most 200"),
        ("consent_marketing", "maybe", "boolean"),
        ("referrer", "https://example.org", "not part of this call"),
    ],
)
def test_invalid_fields_answer_422_naming_the_field_and_write_nothing(
    client, event, field, value, words
):
    response = client.post(REGISTER, json=person(**{field: value}))
    assert response.status_code == 422, response.json
    assert words in response.json["error"]["fields"][field]
    assert count(Registration) == 0
    assert count(Lead) == 0


def test_a_bad_answer_is_named_by_its_question(client, event):
    response = client.post(REGISTER, json=person(answers={"team_size": {"nested": 1}}))
    assert response.status_code == 422
    assert "answers.team_size" in response.json["error"]["fields"]


def test_a_missing_email_is_named(client, event):
    body = person()
    del body["email"]
    response = client.post(REGISTER, json=body)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email"}


def test_only_email_and_first_name_are_required(client, event):
    response = client.post(REGISTER, json={"email": "grace@example.com", "first_name": "Grace"})
    assert response.status_code == 201
    registration = db.session.get(Registration, response.json["id"])
    assert (registration.last_name, registration.country, registration.answers) == ("", None, {})


# The staff list -----------------------------------------------------------------------------


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("marketer"))


def test_staff_list_an_events_registrations_with_what_was_given(client, event, marketer):
    client.post(REGISTER, json=person())
    response = client.get(REGISTER, headers=marketer)
    assert response.status_code == 200
    item = response.json["items"][0]
    assert item["email"] == "Ada.Lovelace@example.com"
    assert item["company"] == "Analytical Engines"
    assert item["status"] == "confirmed"
    assert item["manage_url"].startswith("http://testserver/r/")
    assert response.json["total"] == 1


def test_staff_list_filters_by_status_and_searches_email_name_and_company(client, marketer, app):
    event = make_event(capacity=1)
    register_person(event, "ada@example.com", last_name="Lovelace", company="Engines")
    register_person(event, "grace@navy.example", first_name="Grace", last_name="Hopper")
    register_person(event, "linus@example.org", company="100%_Kernel")

    def emails(query: str) -> set[str]:
        response = client.get(f"{REGISTER}?{query}", headers=marketer)
        assert response.status_code == 200, response.json
        return {item["email"] for item in response.json["items"]}

    assert emails("status=waitlisted") == {"grace@navy.example", "linus@example.org"}
    assert emails("status=confirmed") == {"ada@example.com"}
    assert emails("q=NAVY") == {"grace@navy.example"}
    assert emails("q=grace hopper") == {"grace@navy.example"}
    assert emails("q=engines") == {"ada@example.com"}
    assert emails("q=100%25_") == {"linus@example.org"}
    assert emails("q=%25") == {"linus@example.org"}
    assert emails("status=waitlisted&q=linus") == {"linus@example.org"}


def test_staff_list_of_an_unknown_event_is_404(client, marketer):
    assert client.get("/api/v1/events/nope/registrations", headers=marketer).status_code == 404


def test_registration_pages_follow_next_links_keeping_filters(client, event, marketer):
    for number in range(7):
        register_person(event, f"person{number}@example.com")
    first = client.get(f"{REGISTER}?limit=3&status=confirmed", headers=marketer).json
    assert first["total"] == 7 and len(first["items"]) == 3
    assert "status=confirmed" in first["next"] and "limit=3" in first["next"]
    ids = [item["id"] for item in first["items"]]
    page = first
    while page["next"]:
        page = client.get(page["next"], headers=marketer).json
        ids += [item["id"] for item in page["items"]]
    assert len(ids) == 7 and len(set(ids)) == 7
    assert page["total"] == 7


@pytest.mark.parametrize("limit", ["0", "501", "-5", "many"])
def test_limit_outside_1_to_500_is_refused_naming_limit(client, event, marketer, limit):
    response = client.get(f"{REGISTER}?limit={limit}", headers=marketer)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"limit"}


def test_limit_of_500_is_allowed(client, event, marketer):
    assert client.get(f"{REGISTER}?limit=500", headers=marketer).status_code == 200


def test_bad_status_filter_is_refused_naming_status(client, event, marketer):
    response = client.get(f"{REGISTER}?status=lost", headers=marketer)
    assert response.status_code == 422
    assert "confirmed" in response.json["error"]["fields"]["status"]
