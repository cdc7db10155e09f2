"""The fake Stripe answers the official client as Stripe does, so payment tests can trust it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask, request
from werkzeug.serving import make_server

from tests.fake_stripe import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    fake_stripe,  # noqa: F401
)


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:  # noqa: F811
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": fake_stripe.url}, max_network_retries=0
    )


def _webhook_receiver() -> tuple[Flask, list[str]]:
    """A stand-in for the app's webhook view: verifies like the app must, keeps event types."""
    app, received = Flask(__name__), []

    @app.post("/stripe/webhook")
    def webhook() -> tuple[str, int]:
        try:
            event = stripe.Webhook.construct_event(
                request.get_data(), request.headers.get("Stripe-Signature"), WEBHOOK_SECRET
            )
        except stripe.SignatureVerificationError:
            return "bad signature", 400
        received.append(event.type)
        return "", 200

    return app, received


def _ticket(**extra: Any) -> dict[str, Any]:
    return {
        "mode": "payment",
        "success_url": "http://app.test/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app.test/cancelled",
        "customer_email": "ada@example.com",
        "client_reference_id": "5",
        "metadata": {"registration_id": "5"},
        "line_items": [
            {
                "price_data": {
                    "currency": "EUR",
                    "unit_amount": 2500,
                    "product_data": {"name": "Ticket"},
                },
                "quantity": 2,
            }
        ],
        **extra,
    }


def test_creating_a_session_returns_a_typed_session_with_its_payment_page_and_total(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    session = stripe_client.v1.checkout.sessions.create(_ticket())

    assert isinstance(session, stripe.checkout.Session)
    assert session.url == f"{fake_stripe.url}/pay/{session.id}"
    assert session.id.startswith("cs_test_")
    assert (session.amount_total, session.currency, session.status) == (5000, "eur", "open")
    assert session.metadata.to_dict() == {"registration_id": "5"}
    call = fake_stripe.requests[-1]
    assert call.params["line_items"][0]["price_data"]["product_data"] == {"name": "Ticket"}
    assert call.idempotency_key


def test_a_reused_idempotency_key_replays_the_session_and_refuses_other_params(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    first = stripe_client.v1.checkout.sessions.create(_ticket(), {"idempotency_key": "checkout-5"})
    again = stripe_client.v1.checkout.sessions.create(_ticket(), {"idempotency_key": "checkout-5"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(fake_stripe.sessions) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.checkout.sessions.create(
            _ticket(customer_email="bob@example.com"), {"idempotency_key": "checkout-5"}
        )


def test_an_expiry_sooner_than_thirty_minutes_is_refused_on_expires_at(
    stripe_client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.checkout.sessions.create(_ticket(expires_at=int(time.time()) + 600))

    assert refused.value.param == "expires_at"
    assert refused.value.http_status == 400


def test_a_session_can_be_retrieved_and_expired_but_a_completed_one_cannot_expire(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    open_one = stripe_client.v1.checkout.sessions.create(_ticket())
    paid_one = stripe_client.v1.checkout.sessions.create(_ticket())
    fake_stripe.pay(paid_one.id)

    assert stripe_client.v1.checkout.sessions.retrieve(open_one.id).status == "open"
    assert stripe_client.v1.checkout.sessions.expire(open_one.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        stripe_client.v1.checkout.sessions.expire(paid_one.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.code == "resource_missing"


def test_paying_then_refunding_part_and_the_rest_marks_the_charge_refunded(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    session = stripe_client.v1.checkout.sessions.create(_ticket())
    completed = fake_stripe.pay(session.id)
    intent = completed["data"]["object"]["payment_intent"]

    assert completed["type"] == "checkout.session.completed"
    assert completed["data"]["object"]["payment_status"] == "paid"
    assert stripe_client.v1.payment_intents.retrieve(intent).status == "succeeded"
    refunds = stripe_client.v1.refunds
    part = refunds.create({"payment_intent": intent, "amount": 1000})
    rest = refunds.create({"payment_intent": intent}, {"idempotency_key": "refund-5"})

    assert isinstance(rest, stripe.Refund)
    assert (part.amount, rest.amount, rest.status) == (1000, 4000, "succeeded")
    charge = fake_stripe.charges[rest.charge]
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)


def test_refunding_a_fully_refunded_payment_again_is_charge_already_refunded(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    session = stripe_client.v1.checkout.sessions.create(_ticket())
    intent = fake_stripe.pay(session.id)["data"]["object"]["payment_intent"]
    event = fake_stripe.refund_in_dashboard(intent)

    assert event["type"] == "charge.refunded"
    assert event["data"]["object"]["refunded"] is True
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create({"payment_intent": intent})
    assert refused.value.code == "charge_already_refunded"


def test_a_delayed_payment_is_unpaid_until_it_succeeds(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    session = stripe_client.v1.checkout.sessions.create(_ticket())

    completed = fake_stripe.pay(session.id, delayed=True)
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    succeeded = fake_stripe.async_succeeded(session.id)

    assert succeeded["type"] == "checkout.session.async_payment_succeeded"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert [e["type"] for e in fake_stripe.events][-2:] == [completed["type"], succeeded["type"]]


def test_injected_failures_raise_the_matching_stripe_errors_once(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    fake_stripe.fail_next("POST", "/v1/checkout/sessions", code="card_declined")
    fake_stripe.fail_next("POST", "/v1/checkout/sessions", status=500, error_type="api_error")

    sessions, key = stripe_client.v1.checkout.sessions, {"idempotency_key": "checkout-5"}

    with pytest.raises(stripe.CardError) as declined:
        sessions.create(_ticket(), key)
    assert declined.value.code == "card_declined"
    with pytest.raises(stripe.APIError):
        sessions.create(_ticket(), key)
    # Failures are not kept for replay, so the same key then succeeds.
    assert sessions.create(_ticket(), key).status == "open"
    assert len(fake_stripe.requests) == 3


def test_a_signed_event_verifies_only_with_the_right_secret_and_a_fresh_timestamp(
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    payload = json.dumps(fake_stripe.event("checkout.session.expired", {"id": "cs_x"})).encode()

    event = stripe.Webhook.construct_event(
        payload, fake_stripe.sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET
    )
    assert event.type == "checkout.session.expired"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            payload, fake_stripe.sign(payload, "whsec_wrong"), WEBHOOK_SECRET
        )
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stale = fake_stripe.sign(payload, WEBHOOK_SECRET, int(time.time()) - 400)
        stripe.Webhook.construct_event(payload, stale, WEBHOOK_SECRET)


def test_delivering_signs_events_for_a_flask_test_client_and_tampering_is_refused(
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    app, received = _webhook_receiver()
    event = fake_stripe.event("checkout.session.expired", {"id": "cs_x"})

    assert fake_stripe.deliver(app.test_client(), event, WEBHOOK_SECRET)[0] == 200
    forged = fake_stripe.deliver(app.test_client(), event, WEBHOOK_SECRET, signature="t=1,v1=00")
    assert forged[0] == 400
    assert received == ["checkout.session.expired"]


@pytest.fixture
def live_receiver() -> Iterator[tuple[str, list[str]]]:
    """The webhook receiver served on a loopback port: its base URL and the events it took."""
    app, received = _webhook_receiver()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    thread.join(timeout=5)


def test_the_checkout_page_pays_notifies_the_app_and_redirects_to_the_success_url(
    stripe_client: stripe.StripeClient,
    fake_stripe: FakeStripe,  # noqa: F811
    live_receiver: tuple[str, list[str]],
) -> None:
    fake_stripe.webhook_target, received = live_receiver
    fake_stripe.webhook_secret = WEBHOOK_SECRET
    session = stripe_client.v1.checkout.sessions.create(_ticket())
    page = urllib.request.urlopen(session.url, timeout=5).read().decode()
    assert "Fake Stripe Checkout" in page and "EUR 50.00" in page and "ada@example.com" in page

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(session.url, data=b"", method="POST"), timeout=5)

    assert answer.value.code == 303
    assert answer.value.headers["Location"] == f"http://app.test/paid?session={session.id}"
    assert fake_stripe.sessions[session.id]["status"] == "complete"
    assert received == ["checkout.session.completed"]
    assert fake_stripe.deliveries == [(fake_stripe.events[-1]["id"], 200)]


def test_api_calls_without_a_test_secret_key_are_unauthorised(
    fake_stripe: FakeStripe,  # noqa: F811
) -> None:
    live = stripe.StripeClient(
        "sk_live_x", base_addresses={"api": fake_stripe.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        live.v1.checkout.sessions.create(_ticket())
