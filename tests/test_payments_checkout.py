"""Registering for a paid event: the seat is held and Stripe Checkout opened for it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from app.db import db, utcnow
from app.mail.models import OutboxMessage
from app.payments.checkout import attempt_key, checkout_url, session_expiry
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


def reserve_on_the_landing_page(client, event):  # type: ignore[no-untyped-def]
    page = client.get(f"/e/{event.slug}")
    return client.post(
        f"/e/{event.slug}",
        data={
            "email": "grace@example.com",
            "first_name": "Grace",
            "csrf_token": csrf_token(page.text),
        },
    )


def test_landing_form_sends_the_registrant_to_checkout(client, fake_stripe):
    event = make_paid_event()
    response = reserve_on_the_landing_page(client, event)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(fake_stripe.url + "/pay/")


def test_registering_twice_opens_no_second_checkout_session(client, fake_stripe):
    event = make_paid_event()
    first = register_via_api(client, event, "ada@example.com")
    again = register_via_api(client, event, "ADA@example.com")
    assert again["id"] == first["id"]
    # Whoever typed the address again may not own it: they get no Checkout; the address gets
    # its manage link, whose Pay button resumes the one session.
    assert first["checkout_url"] and again["checkout_url"] is None
    creates = [c for c in fake_stripe.requests if c.path == "/v1/checkout/sessions"]
    assert len(creates) == 1
    assert seats_taken(event) == 1


def test_the_same_idempotency_key_gets_the_same_session_from_stripe(client, fake_stripe):
    """A retry after the row was lost (the process stopped after Stripe answered) gets
    Stripe's first session back rather than a second one."""
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    first = payment_of(body["id"])
    session_id, url = first.checkout_session_id, first.checkout_url
    db.session.delete(first)
    db.session.commit()
    time.sleep(1.1)  # a retry in a later second must still send the very same parameters
    assert checkout_url(body["id"]) == url
    assert payment_of(body["id"]).checkout_session_id == session_id
    keys = [c.idempotency_key for c in fake_stripe.requests if c.path == "/v1/checkout/sessions"]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_stripe_error_releases_the_hold_and_the_form_says_so(client, fake_stripe):
    event = make_paid_event(capacity=1)
    fake_stripe.fail_next("POST", "/v1/checkout/sessions", status=500, error_type="api_error")
    response = reserve_on_the_landing_page(client, event)
    assert response.status_code == 503
    assert "Nothing was charged" in response.text
    assert seats_taken(event) == 0
    registration = db.session.scalars(db.select(Registration)).one()
    assert registration.status == "cancelled"
    # The seat is free for the next person, who pays as usual.
    assert register_via_api(client, event, "next@example.com")["status"] == "pending_payment"


def test_stripe_error_through_the_api_is_a_503_naming_the_problem(client, fake_stripe):
    event = make_paid_event()
    fake_stripe.fail_next("POST", "/v1/checkout/sessions", status=402, error_type="card_error")
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada"},
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert "Nothing was charged" in response.json["error"]["message"]
    assert seats_taken(event) == 0
    # Trying again works once Stripe answers.
    assert register_via_api(client, event, "ada@example.com")["status"] == "pending_payment"


def test_a_full_paid_event_waitlists_without_opening_checkout(client, fake_stripe):
    event = make_paid_event(capacity=1)
    register_via_api(client, event, "first@example.com")
    body = register_via_api(client, event, "second@example.com")
    assert body["status"] == "waitlisted"
    assert body["checkout_url"] is None
    creates = [c for c in fake_stripe.requests if c.path == "/v1/checkout/sessions"]
    assert len(creates) == 1


def test_a_promoted_registrant_is_asked_to_pay_within_a_day(client, fake_stripe):
    event = make_paid_event(capacity=1)
    first = register_via_api(client, event, "first@example.com")
    waiting = register_via_api(client, event, "second@example.com")
    fake_stripe.expire_session(payment_of(first["id"]).checkout_session_id)
    deliver(client, fake_stripe, fake_stripe.events[-1])
    assert status_of(first["id"]) == "cancelled"
    assert status_of(waiting["id"]) == "pending_payment"
    promoted = db.session.get(Registration, waiting["id"])
    assert promoted.hold_expires_at - utcnow() > timedelta(hours=23)
    kinds = db.session.scalars(
        db.select(OutboxMessage.kind).where(OutboxMessage.registration_id == waiting["id"])
    ).all()
    assert "payment_due" in kinds
    # Their Pay button opens a Checkout Session for them.
    assert checkout_url(waiting["id"]).startswith(fake_stripe.url + "/pay/")


def test_a_short_hold_gets_a_session_expiry_that_requests_moments_apart_agree_on():
    now = datetime(2026, 11, 27, 10, 0, 1, tzinfo=UTC)
    first = session_expiry(now + timedelta(minutes=5), now)
    later = session_expiry(now + timedelta(minutes=5), now + timedelta(seconds=40))
    assert first == later == datetime(2026, 11, 27, 10, 35, tzinfo=UTC)
    # A hold long enough for Stripe keeps its own end, at most Stripe's 24 hours.
    assert session_expiry(now + timedelta(hours=2), now) == now + timedelta(hours=2)
    assert session_expiry(now + timedelta(days=3), now) == now + timedelta(hours=24)


def test_someone_staff_add_by_hand_to_a_paid_event_is_a_guest(client, fake_stripe):
    from tests.builders import log_in, make_user

    event = make_paid_event()
    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}/registrations/new")
    assert "your guest" in page.text
    response = client.post(
        f"/admin/events/{event.slug}/registrations/new",
        data={"email": "vip@example.com", "first_name": "Vi", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code in (302, 303), response.text
    registration = db.session.scalars(db.select(Registration)).one()
    assert registration.status == "confirmed"
    assert registration.hold_expires_at is None
    assert fake_stripe.requests == []


def test_a_paid_event_whose_stripe_keys_were_removed_refuses_clearly(app, client, fake_stripe):
    event = make_paid_event()
    app.config["STRIPE_SECRET_KEY"] = None
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada"},
    )
    assert response.status_code == 503
    assert "Nothing was charged" in response.json["error"]["message"]
    assert seats_taken(event) == 0
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    status, _ = deliver(client, fake_stripe, fake_stripe.event("charge.refunded", {}))
    assert status == 400


def test_the_pay_button_of_a_seat_not_waiting_for_payment_explains_itself(client, fake_stripe):
    from app.registrations.links import manage_token

    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    paid = fake_stripe.pay(payment_of(body["id"]).checkout_session_id)
    deliver(client, fake_stripe, paid)
    token = manage_token(db.session.get(Registration, body["id"]))
    assert "Pay now" not in client.get(f"/r/{token}").text
    page = client.get(f"/r/{token}/cancel")  # a form of the same session, for its CSRF token
    response = client.post(
        f"/r/{token}/pay", data={"csrf_token": csrf_token(page.text)}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "not waiting for a payment" in response.text
    assert client.post(f"/r/{token}/pay").status_code == 400  # no CSRF token
    forged = client.post("/r/forged-token/pay", data={"csrf_token": csrf_token(page.text)})
    assert forged.status_code == 404
