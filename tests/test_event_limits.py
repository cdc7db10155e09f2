"""An event's limits are the events service's: the console form, the API and the service
itself (which the command line and the demo seed call) refuse the same bad value, naming the
same field, in the same words, and keep nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events import limits
from app.events.models import Event
from app.events.services import EventRejected, create_event
from tests.builders import bearer, event_form, make_user

# One valid event, as the API and the service take it (the console's is `event_form`'s).
API = {
    "slug": "spring-product-tour",
    "title": "Spring product tour",
    "description": "A **live** tour.",
    "starts_at": "2030-07-01T10:00:00+02:00",
    "duration_minutes": 45,
    "timezone": "Europe/Berlin",
    "capacity": 100,
    "currency": "USD",
    "join_url": "https://meet.example.com/tour",
    "campaign": "Spring 2030",
}
SERVICE = {
    **API,
    "starts_at": datetime(2030, 7, 1, 8, 0, tzinfo=UTC),
}

BAD = [
    ("title", "x" * (limits.TITLE_LENGTH + 1)),
    ("slug", "a" * (limits.SLUG_LENGTH + 1)),
    ("description", "d" * (limits.DESCRIPTION_LENGTH + 1)),
    ("duration_minutes", 0),
    ("duration_minutes", limits.DURATION_MINUTES.high + 1),
    ("capacity", -1),
    ("capacity", limits.CAPACITY.high + 1),
    ("refund_until_hours_before", limits.REFUND_HOURS.high + 1),
    ("join_url", "https://meet.example.com/" + "x" * limits.JOIN_URL_LENGTH),
    ("location", "L" * (limits.LOCATION_LENGTH + 1)),
    ("campaign", "c" * (limits.CAMPAIGN_LENGTH + 1)),
    ("currency", "ZZZ"),
    ("timezone", "Mars/Olympus"),
]


def through_the_console(client: Any, field: str, value: Any) -> dict[str, str]:
    response = event_form(client, **{field: str(value)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    named = dict(re.findall(r'id="([a-z_]+)-error">(.*?)</p>', page))
    return {name: html.unescape(message) for name, message in named.items()}


def through_the_api(client: Any, field: str, value: Any) -> dict[str, str]:
    token = bearer(make_user("marketer"))
    response = client.post("/api/v1/events", json={**API, field: value}, headers=token)
    assert response.status_code == 422, response.json
    return response.json["error"]["fields"]


def through_the_service(field: str, value: Any) -> dict[str, str]:
    with pytest.raises(EventRejected) as refused:
        create_event({**SERVICE, field: value})
    return refused.value.fields


@pytest.mark.parametrize(("field", "value"), BAD, ids=lambda v: str(v)[:24])
def test_a_bad_event_gets_the_same_refusal_from_console_api_and_service(staff, app, field, value):
    console = through_the_console(staff, field, value)
    api = through_the_api(app.test_client(), field, value)
    service = through_the_service(field, value)
    assert console == api == service, (console, api, service)
    assert set(service) == {field}
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_price_limit_is_one_number_on_every_face_told_in_whole_units_on_the_console(staff, app):
    highest = limits.PRICE_CENTS.high
    refused = through_the_console(staff, "price", "1000000.00")
    assert refused == {"price": "Enter a price from 0 to 999999.99, or leave it empty for free."}
    api = through_the_api(app.test_client(), "price_cents", highest + 1)
    assert api == {"price_cents": limits.PRICE_CENTS.message}
    assert through_the_service("price_cents", highest + 1) == api

    assert event_form(staff, price="999999.99").status_code == 303
    body = {**API, "slug": "at-the-limit", "price_cents": highest}
    token = bearer(make_user("admin"))
    assert app.test_client().post("/api/v1/events", json=body, headers=token).status_code == 201
    assert set(db.session.scalars(select(Event.price_cents))) == {highest}
