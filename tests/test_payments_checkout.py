"""Registering for a paid event: the seat is held and Stripe Checkout opened for it."""

from __future__ import annotations

from app.db import db, utcnow
from app.payments.services import attempt_key
from app.registrations.models import Registration
from tests.builders import csrf_token
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    deliver,
    make_paid_event,
    payment_of,
    register_via_api,
    seats_taken,
    status_of,
)


def test_api_registration_holds_a_seat_and_answers_the_checkout_address(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "Ada@Example.com")
    assert body["status"] == "pending_payment"
    assert body["checkout_url"].startswith(fake_stripe.url + "/pay/cs_test_")
    assert seats_taken(event) == 1
    (call,) = [c for c in fake_stripe.requests if c.path == "/v1/checkout/sessions"]
    params = call.params
    assert params["mode"] == "payment"
    assert params["customer_email"] == "Ada@example.com"
    assert params["client_reference_id"] == f"registration-{body['id']}"
    assert params["metadata"]["registration_id"] == str(body["id"])
    item = params["line_items"][0]
    assert item["price_data"]["unit_amount"] == "4900"
    assert item["price_data"]["currency"] == "eur"
    registration = db.session.get(Registration, body["id"])
    assert call.idempotency_key == attempt_key(registration, 0)
    expires = int(params["expires_at"])
    assert 30 * 60 <= expires - utcnow().timestamp() <= 32 * 60


def test_paid_webhook_confirms_the_seat_and_a_replay_changes_nothing(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    payment = payment_of(body["id"])
    paid = fake_stripe.pay(payment.checkout_session_id)
    status, answer = deliver(client, fake_stripe, paid)
    assert status == 200, answer
    assert status_of(body["id"]) == "confirmed"
    assert payment_of(body["id"]).status == "paid"
    assert seats_taken(event) == 1
    status, answer = deliver(client, fake_stripe, paid)
    assert status == 200 and b"replay" in answer
    assert seats_taken(event) == 1


def test_landing_form_sends_the_registrant_to_checkout(client, fake_stripe):
    event = make_paid_event()
    page = client.get(f"/e/{event.slug}")
    response = client.post(
        f"/e/{event.slug}",
        data={
            "email": "grace@example.com",
            "first_name": "Grace",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(fake_stripe.url + "/pay/")
