"""The landing form is not a spam cannon: a rate limit per address, a honeypot, a minimum fill
time, and no disposable addresses (the same rule on the form and the API)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from app.db import db
from app.mail.models import OutboxMessage
from app.registrations.forms import form_stamp
from app.registrations.models import Lead, Registration
from tests.builders import csrf_token, make_event
from tests.test_landing_form_errors import assert_refused, nothing_saved, read_form

LANDING = "/e/launch-webinar"
NEUTRAL = "If this address is registered, we've emailed its link again."
SUBMIT_AGAIN = "Please check your details and send the form again."


def person(number: int = 0, **changes: str) -> dict[str, str]:
    return {"email": f"person{number}@example.com", "first_name": "Pat", **changes}


def post(client: Any, data: dict[str, str], address: str = "203.0.113.7") -> Any:
    return client.post(LANDING, data=data, environ_base={"REMOTE_ADDR": address})


def token_of(client: Any) -> str:
    return csrf_token(client.get(LANDING).get_data(as_text=True))


def registrations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Registration)) or 0


@pytest.fixture(autouse=True)
def event(app):  # type: ignore[no-untyped-def]
    return make_event()


# --- Rate limit ------------------------------------------------------------------------------


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "RATELIMIT_ENABLED": True}

    def test_forty_posts_in_a_minute_from_one_address_do_not_all_pass(self, client):
        token = token_of(client)
        answers = [post(client, {"csrf_token": token, **person(n)}) for n in range(40)]

        statuses = [answer.status_code for answer in answers]
        assert statuses == [303] * 10 + [429] * 30
        refused = answers[-1]
        assert refused.content_type.startswith("text/html")
        assert "Too many requests" in refused.text
        assert "Wait a minute, then try again." in refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert registrations() == 10
        # Another visitor is not held back by this one, and reading the page is never limited.
        assert post(client, {"csrf_token": token, **person(99)}, "198.51.100.9").status_code == 303
        assert client.get(LANDING, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200

    def test_the_limit_is_a_setting(self, client, app):
        app.config["LANDING_RATE_LIMIT"] = "2/minute"
        token = token_of(client)
        statuses = [post(client, {"csrf_token": token, **person(n)}).status_code for n in range(3)]
        assert statuses == [303, 303, 429]


# --- Honeypot --------------------------------------------------------------------------------


def test_the_honeypot_is_hidden_from_people_without_inline_style(client):
    html = client.get(LANDING).get_data(as_text=True)
    trap = html.split('<div class="trap" aria-hidden="true">', 1)[1].split("</div>", 1)[0]
    assert 'name="website"' in trap
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    assert "style=" not in trap
    stylesheet = Path(__file__).parents[1] / "app" / "static" / "site.css"
    assert ".trap {" in stylesheet.read_text()


def test_a_filled_honeypot_stores_nothing_and_shows_the_neutral_page(client):
    response = post(client, {"csrf_token": token_of(client), **person(website="http://spam")})
    assert response.status_code == 200
    assert NEUTRAL in response.text
    assert "/r/" not in response.text
    assert nothing_saved()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_empty_honeypot_registers_as_usual(client):
    response = post(client, {"csrf_token": token_of(client), **person(website="")})
    assert response.status_code == 303
    assert registrations() == 1


# --- Minimum fill time -----------------------------------------------------------------------


class TestFillTime:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "FORM_MIN_FILL_SECONDS": 2}

    def served_field(self, html: str) -> str:
        marker = 'id="served" name="served" type="hidden" value="'
        return html.split(marker, 1)[1].split('"', 1)[0]

    def test_a_form_sent_back_at_once_is_shown_again_with_what_was_typed(self, client):
        page = client.get(LANDING).get_data(as_text=True)
        typed = person(7, last_name="Quick", company="Bots & Co")
        data = {"csrf_token": csrf_token(page), "served": self.served_field(page), **typed}

        response = post(client, data)

        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert SUBMIT_AGAIN in html
        assert 'value="person7@example.com"' in html
        assert 'value="Quick"' in html and 'value="Bots &amp; Co"' in html
        assert nothing_saved()
        # The page served again carries a new stamp, so a person's second try goes through.
        assert self.served_field(html) != data["served"]

    def test_a_form_that_took_a_person_long_enough_registers(self, client, app):
        served = form_stamp("launch-webinar", now=time.time() - 3)
        response = post(client, {"csrf_token": token_of(client), "served": served, **person()})
        assert response.status_code == 303
        assert registrations() == 1

    @pytest.mark.parametrize(
        "served",
        [
            None,
            "",
            "not-a-stamp",
            URLSafeSerializer("another-key", salt="landing-form-served").dumps(
                ["launch-webinar", 0]
            ),
        ],
        ids=["missing", "empty", "garbage", "forged"],
    )
    def test_a_missing_or_forged_stamp_is_refused_the_same_way(self, client, served):
        data = {"csrf_token": token_of(client), **person()}
        if served is not None:
            data["served"] = served
        response = post(client, data)
        assert response.status_code == 422
        assert SUBMIT_AGAIN in response.text
        assert nothing_saved()

    def test_a_stamp_from_another_events_form_does_not_count(self, client, app):
        served = form_stamp("another-event", now=time.time() - 60)
        response = post(client, {"csrf_token": token_of(client), "served": served, **person()})
        assert response.status_code == 422
        assert nothing_saved()


# --- Disposable addresses --------------------------------------------------------------------

DISPOSABLE = "This looks like a disposable email address"


@pytest.mark.parametrize(
    "email", ["pat@mailinator.com", "pat@YOPmail.com", "pat@mx.mailinator.com"]
)
def test_the_form_refuses_disposable_addresses_on_the_email_field(client, email):
    response = post(client, {"csrf_token": token_of(client), **person(), "email": email})
    assert_refused(response, "email", DISPOSABLE)


@pytest.mark.parametrize("email", ["pat@mailinator.com", "pat@mx.mailinator.com"])
def test_the_api_refuses_disposable_addresses_naming_the_email_field(client, email):
    response = client.post(
        "/api/v1/events/launch-webinar/registrations", json={"email": email, "first_name": "Pat"}
    )
    assert response.status_code == 422
    assert DISPOSABLE in response.json["error"]["fields"]["email"]
    assert nothing_saved()


def test_the_form_and_the_api_give_the_same_refusal(client):
    form = post(client, {"csrf_token": token_of(client), **person(email="x@mailinator.com")})
    api = client.post(
        "/api/v1/events/launch-webinar/registrations",
        json={"email": "x@mailinator.com", "first_name": "Pat"},
    )
    assert read_form(form.text).errors["email"] == [api.json["error"]["fields"]["email"]]


def test_an_ordinary_domain_that_merely_ends_like_a_listed_one_is_accepted(client):
    # Neither is yopmail.com nor a subdomain of it, nor listed itself.
    for number, email in enumerate(["a@engines-yopmail.com", "b@yopmail.com.example.org"]):
        response = post(client, {"csrf_token": token_of(client), **person(number, email=email)})
        assert response.status_code == 303, email


def test_staff_adding_someone_by_hand_may_use_any_domain(staff):
    path = "/admin/events/launch-webinar/registrations/new"
    data = {
        "csrf_token": csrf_token(staff.get(path).get_data(as_text=True)),
        "email": "walk.in@mailinator.com",
        "first_name": "Walk",
    }
    assert staff.post(path, data=data).status_code == 303
    assert db.session.scalar(select(Lead.email)) == "walk.in@mailinator.com"
