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
