"""Bad input on the "Reserve your spot" form: each is refused with its message next to the right
field, never a 500, and nothing is saved (no registration, no lead, no seat taken)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.events.services import cancel_event, update_event
from app.registrations.forms import column_length
from app.registrations.models import Lead, Registration
from tests.builders import csrf_token, make_event

VALID = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines",
    "job_title": "Engineer",
    "country": "GB",
    "phone": "+44 20 7946 0958",
}


class FieldErrors(HTMLParser):
    """Reads a rendered form: for each `.field` container, its controls and its error messages."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, list[str]] = {}
        self.invalid: set[str] = set()
        self.described_by: dict[str, str] = {}
        self.error_ids: dict[str, str] = {}
        self._field: dict[str, list[str]] | None = None
        self._depth = 0
        self._error: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        classes = attr.get("class", "").split()
        if tag == "div" and self._field is not None:
            self._depth += 1
        elif tag == "div" and "field" in classes:
            self._field, self._depth = {"controls": [], "errors": []}, 1
        if self._field is None:
            return
        if tag in ("input", "select", "textarea") and attr.get("id"):
            self._field["controls"].append(attr["id"])
            if attr.get("aria-invalid") == "true":
                self.invalid.add(attr["id"])
            if attr.get("aria-describedby"):
                self.described_by[attr["id"]] = attr["aria-describedby"]
        if tag == "p" and "error" in classes:
            self._error = []
            self.error_ids[attr.get("id", "")] = ""

    def handle_data(self, data: str) -> None:
        if self._error is not None:
            self._error.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._error is not None and self._field is not None:
            self._field["errors"].append("".join(self._error).strip())
            self._error = None
        if tag == "div" and self._field is not None:
            self._depth -= 1
            if self._depth == 0:
                for control in self._field["controls"]:
                    if self._field["errors"]:
                        self.errors[control] = self._field["errors"]
                self._field = None


def read_form(html: str) -> FieldErrors:
    parser = FieldErrors()
    parser.feed(html)
    parser.close()
    return parser


def submit(client: Any, slug: str = "launch-webinar", **changes: str) -> Any:
    """Post the form as a browser does: a fresh page's CSRF token, valid fields, then changes."""
    page = client.get(f"/e/{slug}")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), **VALID, **changes}
    return client.post(f"/e/{slug}", data=form)


def nothing_saved() -> bool:
    db.session.rollback()
    registrations = db.session.scalar(select(func.count()).select_from(Registration))
    leads = db.session.scalar(select(func.count()).select_from(Lead))
    seats = db.session.scalar(select(func.coalesce(func.sum(Event.seats_taken), 0)))
    return (registrations, leads, seats) == (0, 0, 0)


def assert_refused(response: Any, field: str, message: str) -> None:
    """422, the message in `field`'s own container and on no other field, nothing saved."""
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    form = read_form(html)
    assert list(form.errors) == [field], form.errors
    assert len(form.errors[field]) == 1, form.errors[field]
    assert message in form.errors[field][0]
    assert form.invalid == {field}
    assert form.described_by[field] in form.error_ids
    assert "Please correct the fields marked below." in html
    assert nothing_saved()


@pytest.fixture(autouse=True)
def open_event(app):  # type: ignore[no-untyped-def]
    return make_event(capacity=10)


def test_the_valid_form_is_accepted(client):
    """The baseline every refusal below differs from by one field."""
    response = submit(client)
    assert response.status_code == 303
    assert not nothing_saved()


@pytest.mark.parametrize("email", ["", "   "])
def test_a_missing_email_is_asked_for(client, email):
    assert_refused(submit(client, email=email), "email", "Enter your email address.")


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("ada", "must have an @-sign"),
        ("ada@", "something after the @-sign"),
        ("@example.com", "something before the @-sign"),
        ("ada@@example.com", "invalid characters: '@'"),
        ("ada lovelace@example.com", "invalid characters before the @-sign: SPACE"),
        ("ada@example", "It should have a period."),
        ("ada@localhost", "It should have a period."),
        ("ada@example..com", "two periods in a row"),
        ("ada.@example.com", "period immediately before the @-sign"),
        ("ada@-example.com", "hyphen immediately after the @-sign"),
        ("ada@exa_mple.com", "invalid characters: '_'"),
        ("Ada <ada@example.com>", "display name and angle brackets"),
        ("ada@example.com\nBcc: eve@example.com", "invalid characters"),
        ("ada\x00@example.com", "U+0000"),
    ],
)
def test_an_email_with_bad_syntax_says_what_is_wrong(client, email, why):
    assert_refused(submit(client, email=email), "email", why)


def test_an_email_longer_than_its_column_is_refused(client):
    limit = column_length("email")
    email = "a" * (limit + 1 - len("@example.com")) + "@example.com"
    assert_refused(submit(client, email=email), "email", f"Use at most {limit} characters")


@pytest.mark.parametrize("first_name", ["", "    "])
def test_a_missing_first_name_is_asked_for(client, first_name):
    assert_refused(submit(client, first_name=first_name), "first_name", "Enter your first name.")


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "job_title", "phone"])
def test_each_text_field_over_its_column_length_is_refused(client, field):
    limit = column_length(field)
    value = "7" * (limit + 1) if field == "phone" else "x" * (limit + 1)
    assert_refused(
        submit(client, **{field: value}),
        field,
        f"Use at most {limit} characters (this has {limit + 1}).",
    )


def test_text_fields_exactly_at_their_column_length_are_kept_whole(client):
    longest = {name: "x" * column_length(name) for name in ("last_name", "company", "job_title")}
    longest["first_name"] = "é" * column_length("first_name")  # characters, not bytes
    assert submit(client, **longest).status_code == 303
    registration = db.session.scalars(select(Registration)).one()
    assert {name: getattr(registration, name) for name in longest} == longest


def test_spaces_around_a_value_do_not_count_against_its_length(client):
    name = "  " + "x" * column_length("first_name") + "  "
    assert submit(client, first_name=name).status_code == 303
    assert db.session.scalars(select(Registration)).one().first_name == name.strip()


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "job_title"])
@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f"])
def test_control_characters_in_a_text_field_are_refused(client, field, control):
    # PostgreSQL cannot store NUL: without this rule the database would answer with a 500.
    assert_refused(
        submit(client, **{field: f"Ada{control}Lovelace"}), field, "invisible control characters"
    )


def test_control_characters_in_tracking_fields_are_dropped_not_refused(client):
    response = submit(client, utm_source="news\x00letter", referrer="https://a.example/\x00")
    assert response.status_code == 303
    registration = db.session.scalars(select(Registration)).one()
    assert registration.utm_source == "newsletter"
    assert registration.referrer == "https://a.example/"


@pytest.mark.parametrize("country", ["XX", "USA", "U", "12", "ZZ", "Germany"])
def test_an_unknown_country_code_is_refused(client, country):
    # Without a phone the country is judged alone (a local number needs a valid country).
    assert_refused(submit(client, country=country, phone=""), "country", "two-letter ISO 3166")


def test_a_country_in_lower_case_is_accepted_and_reads_a_local_phone_number(client):
    assert submit(client, country="gb", phone="020 7946 0958").status_code == 303
    registration = db.session.scalars(select(Registration)).one()
    assert (registration.country, registration.phone) == ("GB", "+442079460958")


@pytest.mark.parametrize(
    ("phone", "country", "why"),
    [
        ("+1 123", "US", "wrong number of digits"),
        ("+44 1234567890123456", "GB", "wrong number of digits"),
        ("12", "GB", "wrong number of digits"),
        ("call me maybe", "GB", "with its country code"),
        ("+999 1234567", "GB", "with its country code"),
        ("415 555 0100", "", "with its country code"),
    ],
)
def test_an_impossible_phone_number_is_refused(client, phone, country, why):
    assert_refused(submit(client, phone=phone, country=country), "phone", why)


def test_a_post_without_its_csrf_token_gets_a_friendly_400(client):
    response = client.post("/e/launch-webinar", data=VALID)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired. Go back, reload the page and try again." in html
    assert "<h1>" in html and "Traceback" not in html
    assert nothing_saved()


def test_a_post_with_a_forged_csrf_token_gets_a_friendly_400(client):
    client.get("/e/launch-webinar")  # the session exists; the token does not match it
    response = client.post("/e/launch-webinar", data={**VALID, "csrf_token": "forged.token"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert nothing_saved()


def test_an_unknown_event_is_a_404_page(client):
    token = csrf_token(client.get("/e/launch-webinar").get_data(as_text=True))
    for response in (
        client.get("/e/no-such-event"),
        client.post("/e/no-such-event", data={**VALID, "csrf_token": token}),
    ):
        assert response.status_code == 404
        assert "There is no open event at this address." in response.get_data(as_text=True)
    assert nothing_saved()


def test_a_draft_event_is_a_404_page(client):
    make_event(slug="not-yet", status="draft")
    token = csrf_token(client.get("/e/launch-webinar").get_data(as_text=True))
    for response in (
        client.get("/e/not-yet"),
        client.post("/e/not-yet", data={**VALID, "csrf_token": token}),
    ):
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "There is no open event at this address." in html
        assert "not-yet" not in html
    assert nothing_saved()


def test_a_cancelled_event_says_so_and_refuses_registration(client, open_event):
    token = csrf_token(client.get("/e/launch-webinar").get_data(as_text=True))
    cancel_event(open_event)
    page = client.get("/e/launch-webinar")
    assert page.status_code == 200
    assert "This event was cancelled." in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True)
    response = client.post("/e/launch-webinar", data={**VALID, "csrf_token": token})
    assert response.status_code == 409
    assert "This event was cancelled." in response.get_data(as_text=True)
    assert nothing_saved()


def _close(client: Any, event: Event, **schedule: Any) -> str:
    """Close the event by changing its schedule; return the CSRF token of the page seen before."""
    token = csrf_token(client.get("/e/launch-webinar").get_data(as_text=True))
    update_event(event, schedule)
    return token


def test_registration_after_the_close_time_is_refused(client, open_event):
    token = _close(client, open_event, registration_closes_at=utcnow() - timedelta(minutes=1))
    response = client.post("/e/launch-webinar", data={**VALID, "csrf_token": token})
    assert response.status_code == 409
    assert "Registration for this event has closed." in response.get_data(as_text=True)
    assert nothing_saved()


def test_a_closed_event_refuses_even_a_form_with_errors_without_judging_it(client, open_event):
    token = _close(client, open_event, registration_closes_at=utcnow() - timedelta(minutes=1))
    response = client.post("/e/launch-webinar", data={"csrf_token": token, "email": "nope"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Registration for this event has closed." in html
    assert read_form(html).errors == {}
    assert nothing_saved()


def test_registration_after_the_event_ended_is_refused(client, open_event):
    token = _close(client, open_event, starts_at=utcnow() - timedelta(hours=3))
    page = client.get("/e/launch-webinar").get_data(as_text=True)
    assert "This webinar took place on " in page and "<form" not in page
    response = client.post("/e/launch-webinar", data={**VALID, "csrf_token": token})
    assert response.status_code == 409
    assert "This webinar took place on " in response.get_data(as_text=True)
    assert nothing_saved()


def test_html_in_a_name_is_shown_as_text_never_run(client):
    script = "<script>alert('owned')</script>"
    response = submit(client, first_name=script, last_name='"><img src=x onerror=alert(1)>')
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    manage_path = urlparse(response.headers["Location"]).path.removesuffix("/thanks")
    manage = client.get(manage_path).get_data(as_text=True)
    for html in (thanks, manage):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in manage
    assert db.session.scalars(select(Registration)).one().first_name == script


def test_a_refused_form_keeps_the_chosen_country_selected(client, open_event):
    page = client.get(f"/e/{open_event.slug}").get_data(as_text=True)
    response = client.post(
        f"/e/{open_event.slug}",
        data={
            "csrf_token": csrf_token(page),
            "email": "not-an-email",
            "first_name": "Ada",
            "country": "GB",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<option value="GB" selected>United Kingdom</option>' in html
    assert html.count(" selected>") == 1
    assert 'autocomplete="country"' in html
