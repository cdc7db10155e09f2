"""The "Reserve your spot" form reads well: each field says whether it is required or optional,
a failed submit opens with focus on the first field to correct (server-side `autofocus`, no
script), and an event may keep its seat count to itself."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from tests.builders import csrf_token, event_form, make_event, register_person


class Fields(HTMLParser):
    """The form's labels (by the control they name) and which controls carry autofocus."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, str] = {}
        self.required: set[str] = set()
        self.autofocus: list[str] = []
        self._label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "label" and attr.get("for"):
            self._label = attr["for"]
            self.labels[self._label] = ""
        if tag in ("input", "select", "textarea") and attr.get("id"):
            if "required" in attr:
                self.required.add(attr["id"] or "")
            if "autofocus" in attr:
                self.autofocus.append(attr["id"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data


def read(html: str) -> Fields:
    parsed = Fields()
    parsed.feed(html)
    return parsed


def post(client, slug: str, **values: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(f"/e/{slug}").text)
    return client.post(f"/e/{slug}", data={"csrf_token": token, **values})


def test_each_field_is_marked_required_or_optional(client, event):
    page = read(client.get(f"/e/{event.slug}").text)

    marks = {name: page.labels[name].split()[-1] for name in page.labels if name != "website"}
    assert marks == {
        "email": "(required)",
        "first_name": "(required)",
        "last_name": "(optional)",
        "company": "(optional)",
        "job_title": "(optional)",
        "country": "(optional)",
        "phone": "(optional)",
        "consent_marketing": marks["consent_marketing"],  # the consent text, not a field label
    }
    assert {"email", "first_name"} <= page.required
    assert not page.required & {"last_name", "company", "job_title", "country", "phone"}


def test_nothing_takes_focus_before_the_form_is_sent(client, event):
    assert read(client.get(f"/e/{event.slug}").text).autofocus == []


@pytest.mark.parametrize(
    ("values", "first_error"),
    [
        ({"email": "not-an-email", "first_name": ""}, "email"),
        ({"email": "ada@example.com", "first_name": ""}, "first_name"),
        ({"email": "ada@example.com", "first_name": "Ada", "phone": "12"}, "phone"),
    ],
)
def test_a_failed_submit_puts_focus_on_the_first_field_in_error(client, event, values, first_error):
    response = post(client, event.slug, **values)

    assert response.status_code == 422
    page = read(response.text)
    assert page.autofocus == [first_error]


def test_an_event_may_hide_how_many_seats_are_left(client, app):
    make_event(slug="shown", capacity=3)
    hidden = make_event(slug="hidden", capacity=3, show_seats_left=False)
    register_person(hidden, "ada@example.com")

    assert "3 of 3 left" in client.get("/e/shown").text
    page = client.get("/e/hidden").text
    assert "left" not in page.split("Reserve your spot")[0]
    assert "Seats" not in page


def test_a_full_event_that_hides_its_seats_says_nothing_of_them_but_offers_its_waitlist(
    client, app
):
    event = make_event(capacity=1, show_seats_left=False)
    register_person(event, "ada@example.com")

    page = client.get(f"/e/{event.slug}").text

    assert "Full" not in page
    assert "Join the waitlist" in page


def test_the_console_event_form_hides_the_seat_count_when_unticked(staff):
    response = event_form(staff, show_seats_left=None)
    assert response.status_code == 303, response.text
    event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event is not None and not event.show_seats_left
    # A new event's form starts with the box ticked.
    form = staff.get("/admin/events/new").text
    assert '<input checked id="show_seats_left"' in form
