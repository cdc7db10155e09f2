"""Every error under /api/ answers `{"error": {"code", "message", "fields"}}` with a 4xx, and
bad input never writes a row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.registrations.models import Lead, Registration
from tests.builders import bearer, make_user

REGISTER = "/api/v1/events/launch-webinar/registrations"


def error_of(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    return error


def nothing_written() -> bool:
    return all(
        db.session.scalar(select(func.count()).select_from(model)) == 0
        for model in (Registration, Lead)
    )


def test_an_unknown_api_address_is_a_json_404(client, app):
    error = error_of(client.get("/api/v1/nothing-here"), 404)
    assert error["code"] == "not_found"
    assert "/api/v1/nothing-here" in error["message"]
    error_of(client.post("/api/v2/events", json={}), 404)


def test_a_wrong_method_is_a_json_405_listing_the_allowed_ones(client, event):
    response = client.delete("/api/v1/events/launch-webinar/registrations")
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    assert "POST" in error["message"]


def test_pages_outside_the_api_keep_their_html_errors(client, app):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_malformed_json_is_a_400(client, event):
    response = client.post(REGISTER, data='{"email": ', content_type="application/json")
    error = error_of(response, 400)
    assert "not valid JSON" in error["message"]
    assert nothing_written()


@pytest.mark.parametrize("body", ['["ada@example.com"]', '"ada@example.com"', "42", "null"])
def test_a_body_that_is_not_an_object_is_a_422(client, event, body):
    response = client.post(REGISTER, data=body, content_type="application/json")
    error = error_of(response, 422)
    assert "JSON object" in error["message"]
    assert nothing_written()


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
def test_a_body_that_is_not_json_is_a_415(client, event, content_type):
    response = client.post(
        REGISTER, data="email=ada@example.com&first_name=Ada", content_type=content_type
    )
    error = error_of(response, 415)
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"]
    assert nothing_written()


def test_an_empty_json_body_names_every_required_field(client, event):
    response = client.post(REGISTER, data="", content_type="application/json")
    error = error_of(response, 422)
    assert set(error["fields"]) == {"email", "first_name"}


def test_invalid_utf8_is_a_400(client, event):
    response = client.post(REGISTER, data=b'{"email": "\xff"}', content_type="application/json")
    error_of(response, 400)
    assert nothing_written()


def test_non_finite_numbers_in_answers_are_refused(client, event):
    body = '{"email": "ada@example.com", "first_name": "Ada", "answers": {"size": NaN}}'
    response = client.post(REGISTER, data=body, content_type="application/json")
    error = error_of(response, 422)
    assert "answers.size" in error["fields"]
    assert nothing_written()


def test_every_bad_field_is_named_at_once(client, event):
    response = client.post(
        REGISTER,
        json={"email": "nope", "first_name": "", "country": "Europe", "extra": 1},
    )
    error = error_of(response, 422)
    assert set(error["fields"]) == {"email", "first_name", "country", "extra"}
    assert "ISO 3166" in error["fields"]["country"]


def test_api_calls_need_no_csrf_token(client, event):
    response = client.post(
        "/api/v1/events/launch-webinar/cancel", headers=bearer(make_user("admin"))
    )
    assert response.status_code == 200
    assert db.session.get(Event, event.id).status == "cancelled"


def test_a_staff_call_without_a_token_does_not_read_the_body_first(client, event):
    response = client.post("/api/v1/events", data="not json", content_type="application/json")
    assert error_of(response, 401)["code"] == "unauthorized"


def test_nul_and_oversized_values_in_addresses_and_queries_are_refused_cleanly(client, event):
    marketer = bearer(make_user("marketer"))
    assert error_of(client.get("/api/v1/events/a%00b", headers=marketer), 404)
    assert error_of(client.get("/api/v1/events/" + "a" * 300, headers=marketer), 404)
    ada = {"email": "ada@example.com", "first_name": "Ada"}
    assert error_of(client.post("/api/v1/events/a%00b/registrations", json=ada), 404)
    search = client.get(f"{REGISTER}?q=ada%00", headers=marketer)
    assert "control characters" in error_of(search, 422)["fields"]["q"]
    leads = client.get("/api/v1/leads?q=ada%00", headers=marketer)
    assert "q" in error_of(leads, 422)["fields"]
    far = client.get(f"{REGISTER}?offset=99999999999999999999", headers=marketer)
    assert set(error_of(far, 422)["fields"]) == {"offset"}


# What the fuzz pass (tests/test_api_fuzz.py) found the document and the API disagreeing on.


def test_a_query_parameter_given_twice_is_refused_naming_it(client, event):
    error = error_of(client.get("/api/v1/events?limit=5&limit=7"), 422)
    assert error["fields"] == {"limit": "Give `limit` once."}


def test_a_change_without_a_body_is_refused_and_an_empty_object_changes_nothing(client, event):
    admin = bearer(make_user("admin"))
    error = error_of(client.patch("/api/v1/events/launch-webinar", headers=admin), 422)
    assert "JSON object" in error["message"]
    unchanged = client.patch("/api/v1/events/launch-webinar", json={}, headers=admin)
    assert unchanged.status_code == 200 and unchanged.json["title"] == event.title


def test_a_length_limit_counts_the_value_as_sent(client, event):
    # maxLength in the document measures the string sent, surrounding spaces included.
    padded = " " * 250 + "Ada" + " " * 250
    response = client.post(REGISTER, json={"email": "ada@example.com", "first_name": padded})
    assert "first_name" in error_of(response, 422)["fields"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Ada\x0fLovelace"),
        ("first_name", "   "),
        ("email", "ada@example.test"),
        ("email", "ada@localhost"),
        ("country", "XX"),
    ],
)
def test_values_the_document_calls_invalid_are_refused(client, event, field, value):
    body = {"email": "ada@example.com", "first_name": "Ada", field: value}
    assert field in error_of(client.post(REGISTER, json=body), 422)["fields"]
    assert nothing_written()


def test_an_event_cannot_be_created_cancelled(client, app):
    body = {
        "slug": "never-on",
        "title": "Never on",
        "starts_at": "2031-03-04T16:00:00+01:00",
        "duration_minutes": 45,
        "timezone": "Europe/Paris",
        "status": "cancelled",
    }
    response = client.post("/api/v1/events", json=body, headers=bearer(make_user("admin")))
    assert "cancel action" in error_of(response, 422)["fields"]["status"]


def test_a_query_parameter_the_call_does_not_take_is_refused_naming_it(client, event):
    error = error_of(client.get("/api/v1/events?stauts=draft"), 422)
    assert "stauts" in error["fields"]
