"""Shared pieces of the payment tests: a paid event, a registrant sent to Checkout, and
Stripe's news delivered to the app's webhook, signed as Stripe signs it."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from app.db import db
from app.events.models import Event
from app.payments.models import Payment
from app.registrations.models import Registration
from tests.builders import make_event
from tests.fake_stripe import WEBHOOK_SECRET, Call, FakeStripe, stripe_settings


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_stripe: FakeStripe) -> dict[str, Any]:
    return app_config | stripe_settings(fake_stripe)


def make_paid_event(**overrides: Any) -> Event:
    values: dict[str, Any] = {
        "slug": "paid-workshop",
        "title": "Paid workshop",
        "price_cents": 4900,
        "currency": "EUR",
        "capacity": 2,
    }
    return make_event(**(values | overrides))


def register_via_api(client: FlaskClient, event: Event, email: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": email, "first_name": email.split("@")[0].title()},
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.json


def payment_of(registration_id: int) -> Payment:
    db.session.expire_all()
    payment = db.session.scalars(
        db.select(Payment)
        .where(Payment.registration_id == registration_id)
        .order_by(Payment.id.desc())
    ).first()
    assert payment is not None, "no Checkout Session was opened"
    return payment


def status_of(registration_id: int) -> str:
    db.session.expire_all()
    registration = db.session.get(Registration, registration_id)
    assert registration is not None
    return registration.status


def seats_taken(event: Event) -> int:
    db.session.expire_all()
    fresh = db.session.get(Event, event.id)
    assert fresh is not None
    return fresh.seats_taken


def deliver(client: FlaskClient, fake: FakeStripe, event: dict[str, Any], **kwargs: Any) -> Any:
    """Post `event` to the webhook as Stripe would; returns the (status, body) answer."""
    return fake.deliver(client, event, WEBHOOK_SECRET, **kwargs)


def pay(client: FlaskClient, fake: FakeStripe, registration_id: int) -> bytes:
    """The buyer pays on Stripe's page and Stripe's signed webhook reaches the app; returns
    the webhook's answer."""
    paid = fake.pay(payment_of(registration_id).checkout_session_id)
    status, answer = deliver(client, fake, paid)
    assert status == 200, answer
    return answer


def paid_seat(
    client: FlaskClient, fake: FakeStripe, event: Event, email: str = "ada@example.com"
) -> dict[str, Any]:
    """Someone registers, pays, and Stripe's webhook confirms the seat; the API's answer."""
    body = register_via_api(client, event, email)
    pay(client, fake, body["id"])
    assert status_of(body["id"]) == "confirmed"
    return body


def refund_calls(fake: FakeStripe) -> list[Call]:
    """Every refund the app asked of Stripe, in order."""
    return [call for call in fake.requests if call.method == "POST" and call.path == "/v1/refunds"]
