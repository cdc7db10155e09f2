"""Stripe's webhook: only Stripe's signed word counts, each event acts once, and the seat and
the money agree however often, and in whatever order, Stripe's news arrives."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.mail.models import OutboxMessage
from app.payments.checkout import checkout_url
from app.payments.models import Payment, StripeEvent
from app.payments.refunds import issue_due_refunds
from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    deliver,
    make_paid_event,
    pay,
    payment_of,
    refund_calls,
    register_via_api,
    seats_taken,
    status_of,
)
from tests.servers import Server, app_env, serve

PRICE = 4900


# --- helpers ---------------------------------------------------------------------------------


def outcome(answer: bytes) -> str:
    return json.loads(answer)["outcome"]


def hold_seat(client: Any, event: Event, email: str) -> tuple[int, str]:
    """Register for the paid event; returns the registration id and its Checkout Session id."""
    body = register_via_api(client, event, email)
    assert body["status"] == "pending_payment", body
    return body["id"], payment_of(body["id"]).checkout_session_id


def paid_and_expired(fake: FakeStripe, session_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The buyer pays: the completed event, and the expiry Stripe would have sent for the same
    session had they not (for news arriving late, out of order, or both at once)."""
    unpaid = copy.deepcopy(fake.sessions[session_id])
    completed = fake.pay(session_id)
    expired = fake.event("checkout.session.expired", unpaid | {"status": "expired", "url": None})
    return completed, expired


def messages(registration_id: int, kind: str) -> int:
    """How many emails of `kind` the outbox holds for this registration."""
    db.session.rollback()  # see what other transactions (or processes) committed
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.registration_id == registration_id, OutboxMessage.kind == kind)
    )


def stripe_events() -> dict[str, str]:
    """Every webhook event recorded as handled, with its outcome."""
    db.session.rollback()
    return dict(db.session.execute(select(StripeEvent.id, StripeEvent.outcome)).all())


def signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme over raw bytes (the fake signs text only)."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256)
    return f"t={moment},v1={digest.hexdigest()}"


def post_raw(client: Any, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        "/stripe/webhook", data=body, headers={"Content-Type": "application/json", **headers}
    )


def assert_nothing_changed(registration_id: int, event: Event) -> None:
    assert status_of(registration_id) == "pending_payment"
    assert payment_of(registration_id).status == "open"
    assert seats_taken(event) == 1
    assert stripe_events() == {}


# --- only Stripe's signed word counts ----------------------------------------------------------


def test_a_forged_signature_is_refused_and_changes_nothing(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)

    status, answer = fake_stripe.deliver(client, completed, "whsec_forged_by_someone_else")

    assert status == 400, answer
    assert json.loads(answer)["error"]["code"] == "bad_signature"
    assert_nothing_changed(registration, event)
    # The same event, signed by Stripe, is accepted: only the signature was wrong.
    status, answer = deliver(client, fake_stripe, completed)
    assert (status, outcome(answer)) == (200, "confirmed")


def test_a_stale_signature_is_refused_as_a_replay_and_changes_nothing(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)

    # Signed with the right secret, but 400 s ago: beyond Stripe's 5-minute tolerance.
    status, answer = deliver(client, fake_stripe, completed, timestamp=int(time.time()) - 400)

    assert status == 400, answer
    assert_nothing_changed(registration, event)
    status, answer = deliver(client, fake_stripe, completed)
    assert (status, outcome(answer)) == (200, "confirmed")


def test_a_delivery_without_a_stripe_signature_header_is_refused(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)

    response = post_raw(client, json.dumps(completed).encode(), {})

    assert response.status_code == 400, response.text
    assert response.json["error"]["code"] == "bad_signature"
    assert_nothing_changed(registration, event)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b"[1, 2, 3]",
        b'{"id": "evt_1", "type": "checkout.session.completed"}',
        b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_1"}}',
        b"\xff\xfe not even utf-8",
    ],
    ids=["not-json", "json-array", "no-object", "object-not-a-dict", "not-utf8"],
)
def test_a_correctly_signed_body_that_is_not_an_event_is_a_400_not_a_500(client, body):
    response = post_raw(client, body, {"Stripe-Signature": signature(body, WEBHOOK_SECRET)})

    assert response.status_code == 400, response.text
    assert response.json["error"]["code"] == "bad_signature"
    assert stripe_events() == {}


def test_a_body_altered_after_signing_is_refused(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)
    payload = json.dumps(completed).encode()
    signed = fake_stripe.sign(payload, WEBHOOK_SECRET)
    altered = copy.deepcopy(completed)
    altered["data"]["object"]["amount_total"] = 1

    response = post_raw(client, json.dumps(altered).encode(), {"Stripe-Signature": signed})

    assert response.status_code == 400, response.text
    assert_nothing_changed(registration, event)
    # The untouched body with that very signature is Stripe's and is accepted.
    response = post_raw(client, payload, {"Stripe-Signature": signed})
    assert response.status_code == 200 and response.json["outcome"] == "confirmed"


def test_the_webhook_needs_no_csrf_token_and_no_login(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    # This app checks CSRF tokens: the registrant's own Pay button without one is refused...
    token = body["manage_url"].rstrip("/").rsplit("/", 1)[-1]
    assert client.post(f"/r/{token}/pay").status_code == 400
    completed = fake_stripe.pay(payment_of(body["id"]).checkout_session_id)

    # ...while Stripe, with no session cookie, no login and no token, is heard.
    status, answer = deliver(client, fake_stripe, completed)

    assert (status, outcome(answer)) == (200, "confirmed")
    assert status_of(body["id"]) == "confirmed"


# --- each event acts once ----------------------------------------------------------------------


def test_a_replayed_event_answers_replay_and_sends_no_second_confirmation(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)
    status, answer = deliver(client, fake_stripe, completed)
    assert (status, outcome(answer)) == (200, "confirmed")

    for _ in range(2):
        status, answer = deliver(client, fake_stripe, completed)
        assert (status, outcome(answer)) == (200, "replay")

    assert status_of(registration) == "confirmed"
    assert payment_of(registration).status == "paid"
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 1
    # The record keeps what the first delivery did.
    assert stripe_events() == {completed["id"]: "confirmed"}


def test_an_unknown_event_type_is_acknowledged_and_ignored(client, fake_stripe):
    event = make_paid_event()
    registration, _ = hold_seat(client, event, "ada@example.com")
    customer = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})

    status, answer = deliver(client, fake_stripe, customer)

    assert (status, outcome(answer)) == (200, "ignored")
    assert stripe_events() == {customer["id"]: "ignored"}
    assert status_of(registration) == "pending_payment"


def test_an_event_for_an_unknown_session_is_acknowledged_and_changes_nothing(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    stranger = copy.deepcopy(fake_stripe.sessions[session]) | {
        "id": "cs_test_not_ours",
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": "pi_not_ours",
        "metadata": {},
        "client_reference_id": None,
    }

    status, answer = deliver(
        client, fake_stripe, fake_stripe.event("checkout.session.completed", stranger)
    )

    assert status == 200, answer
    assert status_of(registration) == "pending_payment"
    assert payment_of(registration).status == "open"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 0


def test_a_session_another_installation_made_is_not_taken_for_ours(client, fake_stripe):
    """Two installations on one Stripe account number registrations alike: a session whose
    row we never wrote is adopted only when its key names this very registration."""
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    foreign = copy.deepcopy(fake_stripe.sessions[session]) | {
        "id": "cs_test_other_install",
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": "pi_other_install",
        "metadata": {
            "registration_id": str(registration),
            "attempt_key": f"checkout-reg{registration}-20200101T000000.000000Z-0",
        },
    }

    status, answer = deliver(
        client, fake_stripe, fake_stripe.event("checkout.session.completed", foreign)
    )

    assert (status, outcome(answer)) == (200, "unknown session")
    assert status_of(registration) == "pending_payment"


def test_a_session_whose_row_was_never_written_is_recognised_by_its_key(client, fake_stripe):
    """The process stopped between Stripe's answer and our commit: the webhook still knows
    whose payment it is from the metadata the session was made with."""
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    db.session.delete(payment_of(registration))
    db.session.commit()

    status, answer = deliver(client, fake_stripe, fake_stripe.pay(session))

    assert (status, outcome(answer)) == (200, "confirmed")
    assert payment_of(registration).checkout_session_id == session
    assert status_of(registration) == "confirmed"


def test_a_refund_delivered_before_its_payment_is_asked_for_again_not_lost(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session)
    intent = fake_stripe.sessions[session]["payment_intent"]
    refunded = fake_stripe.refund_in_dashboard(intent)

    # The refund's webhook overtakes the payment's: not recorded, so Stripe delivers it again.
    status, answer = deliver(client, fake_stripe, refunded)
    assert status == 409, answer
    assert refunded["id"] not in stripe_events()

    assert outcome(deliver(client, fake_stripe, completed)[1]) == "confirmed"
    status, answer = deliver(client, fake_stripe, refunded)
    assert (status, outcome(answer)) == (200, "refund recorded")
    assert status_of(registration) == "cancelled"
    assert seats_taken(event) == 0


def test_a_refund_of_an_old_payment_we_never_knew_is_acknowledged(client, fake_stripe):
    charge = {
        "id": "ch_elsewhere",
        "object": "charge",
        "payment_intent": "pi_elsewhere",
        "amount": 1000,
        "amount_refunded": 1000,
        "created": int(time.time()) - 2 * 86400,
    }
    status, answer = deliver(client, fake_stripe, fake_stripe.event("charge.refunded", charge))
    assert (status, outcome(answer)) == (200, "unknown payment")


# --- news out of order -------------------------------------------------------------------------


def test_an_expiry_delivered_after_the_payment_leaves_the_seat_confirmed(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed, expired = paid_and_expired(fake_stripe, session)
    deliver(client, fake_stripe, completed)

    status, answer = deliver(client, fake_stripe, expired)

    assert (status, outcome(answer)) == (200, "already paid")
    assert status_of(registration) == "confirmed"
    assert payment_of(registration).status == "paid"
    assert seats_taken(event) == 1


def test_a_payment_delivered_after_its_expiry_gets_the_still_free_seat_back(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed, expired = paid_and_expired(fake_stripe, session)
    status, answer = deliver(client, fake_stripe, expired)
    assert (status, outcome(answer)) == (200, "hold released")
    assert status_of(registration) == "cancelled"
    assert seats_taken(event) == 0

    status, answer = deliver(client, fake_stripe, completed)

    assert (status, outcome(answer)) == (200, "confirmed")
    assert status_of(registration) == "confirmed"
    payment = payment_of(registration)
    assert (payment.status, payment.refund_status) == ("paid", "none")
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 1


def refund_the_late_payment(fake: FakeStripe, registration: int) -> None:
    """The late payment was refunded once, in full, at the end of the webhook's own request
    (not left for the worker), and the buyer is told."""
    db.session.rollback()
    payment = payment_of(registration)
    assert payment.status == "paid"
    assert payment.refund_reason == "late_payment"

    (call,) = refund_calls(fake)
    assert call.idempotency_key == f"refund-payment-{payment.id}"
    assert call.params["payment_intent"] == payment.payment_intent_id
    assert call.params["amount"] == str(PRICE)
    (refund,) = fake.refunds.values()
    assert (refund["amount"], refund["payment_intent"]) == (PRICE, payment.payment_intent_id)
    payment = payment_of(registration)
    assert (payment.refund_status, payment.refunded_cents) == ("succeeded", PRICE)
    assert messages(registration, "refunded") == 1
    assert messages(registration, "confirmation") == 0
    # The worker running again (or a second worker) asks Stripe for nothing more.
    assert issue_due_refunds() == 0
    assert len(refund_calls(fake)) == 1
    assert messages(registration, "refunded") == 1


def test_a_payment_after_its_expiry_is_refunded_when_the_waitlist_took_the_seat(
    client, fake_stripe
):
    event = make_paid_event(capacity=1, waitlist=True)
    late, session = hold_seat(client, event, "late@example.com")
    waiting = register_via_api(client, event, "waiting@example.com")["id"]
    completed, expired = paid_and_expired(fake_stripe, session)
    deliver(client, fake_stripe, expired)
    assert status_of(waiting) == "pending_payment"

    status, answer = deliver(client, fake_stripe, completed)

    assert (status, outcome(answer)) == (200, "refunding late payment")
    assert status_of(late) == "cancelled"
    assert status_of(waiting) == "pending_payment"
    assert seats_taken(event) == 1
    refund_the_late_payment(fake_stripe, late)


def test_a_payment_after_its_expiry_is_refunded_when_a_newcomer_took_the_seat(client, fake_stripe):
    event = make_paid_event(capacity=1, waitlist=False)
    late, session = hold_seat(client, event, "late@example.com")
    completed, expired = paid_and_expired(fake_stripe, session)
    deliver(client, fake_stripe, expired)
    newcomer, _ = hold_seat(client, event, "newcomer@example.com")

    status, answer = deliver(client, fake_stripe, completed)

    assert (status, outcome(answer)) == (200, "refunding late payment")
    assert status_of(late) == "cancelled"
    assert status_of(newcomer) == "pending_payment"
    assert seats_taken(event) == 1
    refund_the_late_payment(fake_stripe, late)


def test_an_older_sessions_expiry_does_not_release_a_hold_a_newer_session_pays_for(
    client, fake_stripe
):
    """Near the end of a session the Pay button opens a fresh one for the same hold; the old
    one expiring a minute later must not give the seat away while the buyer pays the new."""
    event = make_paid_event(capacity=1, waitlist=True)
    registration, first = hold_seat(client, event, "ada@example.com")
    waiting = register_via_api(client, event, "waiting@example.com")["id"]
    old = payment_of(registration)
    old.expires_at = utcnow() + timedelta(minutes=1)  # 29 minutes have gone by
    db.session.commit()
    checkout_url(registration)
    second = payment_of(registration).checkout_session_id
    assert second != first

    status, answer = deliver(client, fake_stripe, fake_stripe.expire_session(first))

    assert status == 200, answer
    assert status_of(registration) == "pending_payment"
    assert status_of(waiting) == "waitlisted"
    status, answer = deliver(client, fake_stripe, fake_stripe.pay(second))
    assert (status, outcome(answer)) == (200, "confirmed")
    assert status_of(registration) == "confirmed"
    assert payment_of(registration).refund_status == "none"
    assert seats_taken(event) == 1


# --- delayed payment methods -------------------------------------------------------------------


def test_a_delayed_payment_holds_the_seat_until_it_succeeds(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")

    status, answer = deliver(client, fake_stripe, fake_stripe.pay(session, delayed=True))

    assert (status, outcome(answer)) == (200, "processing")
    assert status_of(registration) == "pending_payment"
    assert payment_of(registration).status == "processing"
    assert messages(registration, "confirmation") == 0
    status, answer = deliver(client, fake_stripe, fake_stripe.async_succeeded(session))
    assert (status, outcome(answer)) == (200, "confirmed")
    assert status_of(registration) == "confirmed"
    assert payment_of(registration).status == "paid"
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 1


def test_a_delayed_success_arriving_before_the_completed_event_confirms_once(client, fake_stripe):
    event = make_paid_event()
    registration, session = hold_seat(client, event, "ada@example.com")
    completed = fake_stripe.pay(session, delayed=True)
    succeeded = fake_stripe.async_succeeded(session)

    assert outcome(deliver(client, fake_stripe, succeeded)[1]) == "confirmed"
    status, answer = deliver(client, fake_stripe, completed)

    assert (status, outcome(answer)) == (200, "already paid")
    assert status_of(registration) == "confirmed"
    assert payment_of(registration).status == "paid"
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 1


def test_a_failed_delayed_payment_releases_the_seat_to_the_first_on_the_waitlist(
    client, fake_stripe
):
    event = make_paid_event(capacity=1, waitlist=True)
    registration, session = hold_seat(client, event, "ada@example.com")
    first = register_via_api(client, event, "first@example.com")["id"]
    second = register_via_api(client, event, "second@example.com")["id"]
    deliver(client, fake_stripe, fake_stripe.pay(session, delayed=True))

    status, answer = deliver(client, fake_stripe, fake_stripe.async_failed(session))

    assert (status, outcome(answer)) == (200, "hold released")
    assert status_of(registration) == "cancelled"
    payment = payment_of(registration)
    assert (payment.status, payment.refund_status) == ("failed", "none")
    assert status_of(first) == "pending_payment"
    assert status_of(second) == "waitlisted"
    assert messages(first, "payment_due") == 1
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 0


# --- expiry ------------------------------------------------------------------------------------


def test_an_expired_checkout_cancels_the_hold_and_promotes_the_waitlist(client, fake_stripe):
    event = make_paid_event(capacity=1, waitlist=True)
    registration, session = hold_seat(client, event, "ada@example.com")
    first = register_via_api(client, event, "first@example.com")["id"]

    status, answer = deliver(client, fake_stripe, fake_stripe.expire_session(session))

    assert (status, outcome(answer)) == (200, "hold released")
    assert status_of(registration) == "cancelled"
    assert payment_of(registration).status == "expired"
    assert status_of(first) == "pending_payment"
    assert messages(first, "payment_due") == 1
    assert seats_taken(event) == 1


def test_an_expired_checkout_without_a_waitlist_frees_the_seat(client, fake_stripe):
    event = make_paid_event(capacity=1, waitlist=False)
    registration, session = hold_seat(client, event, "ada@example.com")

    status, answer = deliver(client, fake_stripe, fake_stripe.expire_session(session))

    assert (status, outcome(answer)) == (200, "hold released")
    assert status_of(registration) == "cancelled"
    assert seats_taken(event) == 0
    assert register_via_api(client, event, "next@example.com")["status"] == "pending_payment"


# --- refunds made in Stripe's dashboard --------------------------------------------------------


def confirmed_seat(client: Any, fake: FakeStripe, event: Event, email: str) -> tuple[int, str]:
    """A paid, confirmed seat: the registration id and its payment intent."""
    registration, _session = hold_seat(client, event, email)
    assert outcome(pay(client, fake, registration)) == "confirmed"
    intent = payment_of(registration).payment_intent_id
    assert intent is not None
    return registration, intent


def test_a_full_refund_in_the_stripe_dashboard_cancels_the_confirmed_seat(client, fake_stripe):
    event = make_paid_event()
    registration, intent = confirmed_seat(client, fake_stripe, event, "ada@example.com")

    status, answer = deliver(client, fake_stripe, fake_stripe.refund_in_dashboard(intent))

    assert (status, outcome(answer)) == (200, "refund recorded")
    payment = payment_of(registration)
    assert (payment.refunded_cents, payment.refund_status) == (PRICE, "succeeded")
    assert payment.refund_reason == "dashboard"
    assert status_of(registration) == "cancelled"
    assert seats_taken(event) == 0
    # Stripe has already given the money back: the worker owes nothing more.
    assert issue_due_refunds() == 0
    assert refund_calls(fake_stripe) == []


def test_a_partial_refund_in_the_dashboard_records_the_amount_and_keeps_the_seat(
    client, fake_stripe
):
    event = make_paid_event()
    registration, intent = confirmed_seat(client, fake_stripe, event, "ada@example.com")

    refunded = fake_stripe.refund_in_dashboard(intent, amount=1000)
    status, answer = deliver(client, fake_stripe, refunded)

    assert (status, outcome(answer)) == (200, "refund recorded")
    payment = payment_of(registration)
    assert payment.refunded_cents == 1000
    assert payment.refund_status == "none"
    assert status_of(registration) == "confirmed"
    assert seats_taken(event) == 1
    assert issue_due_refunds() == 0


# --- deliveries racing each other on a real multi-worker server --------------------------------


@pytest.fixture
def stripe_server(database_url: str, tmp_path: Path, fake_stripe: FakeStripe) -> Iterator[Server]:
    """gunicorn with several workers on this test's database, its Stripe pointed at the fake."""
    env = app_env(
        database_url,
        tmp_path / "server-instance",
        BASE_URL="http://testserver",
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake_stripe.url,
    )
    with serve("wsgi:app", env, log=tmp_path / "gunicorn.log") as server:
        yield server


def hold_seat_through(server: Server, fake: FakeStripe, event: Event, email: str) -> int:
    """Register through the server, whose workers open the Checkout Session at the fake."""
    response = requests.post(
        f"{server.url}/api/v1/events/{event.slug}/registrations",
        json={"email": email, "first_name": "Guest"},
        timeout=30,
    )
    assert response.status_code == 201, f"{response.text}\n{server.log()}"
    assert response.json()["checkout_url"].startswith(fake.url + "/pay/")
    return response.json()["id"]


def deliver_together(
    server: Server, fake: FakeStripe, deliveries: list[tuple[dict[str, Any], str]]
) -> list[tuple[int, bytes]]:
    """POST every (event, signature) to the server from its own thread, all in one instant."""
    barrier = threading.Barrier(len(deliveries))

    def post(delivery: tuple[dict[str, Any], str]) -> tuple[int, bytes]:
        event, signed = delivery
        barrier.wait(timeout=30)
        return fake.deliver(server.url, event, WEBHOOK_SECRET, signature=signed)

    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        return list(pool.map(post, deliveries))


def signed(fake: FakeStripe, event: dict[str, Any]) -> str:
    return fake.sign(json.dumps(event).encode(), WEBHOOK_SECRET)


@pytest.mark.server
def test_the_same_event_delivered_eight_times_at_once_confirms_the_seat_once(
    app, fake_stripe, stripe_server
):
    event = make_paid_event()
    registration = hold_seat_through(stripe_server, fake_stripe, event, "ada@example.com")
    db.session.rollback()
    completed = fake_stripe.pay(payment_of(registration).checkout_session_id)
    signature_once = signed(fake_stripe, completed)

    answers = deliver_together(stripe_server, fake_stripe, [(completed, signature_once)] * 8)

    assert [status for status, _ in answers] == [200] * 8, stripe_server.log()
    assert Counter(outcome(answer) for _, answer in answers) == {"confirmed": 1, "replay": 7}
    assert stripe_events() == {completed["id"]: "confirmed"}
    assert status_of(registration) == "confirmed"
    assert payment_of(registration).status == "paid"
    assert seats_taken(event) == 1
    assert messages(registration, "confirmation") == 1


@pytest.mark.server
def test_completed_and_expired_for_the_same_session_at_once_end_confirmed_and_paid(
    app, fake_stripe, stripe_server
):
    # Stripe never expires a completed session, so whichever arrives first the payment wins.
    # Several buyers at once give both arrival orders their chance.
    buyers = 4
    event = make_paid_event(capacity=buyers, waitlist=False)
    registrations = [
        hold_seat_through(stripe_server, fake_stripe, event, f"buyer{number}@example.com")
        for number in range(buyers)
    ]
    db.session.rollback()
    deliveries = []
    for registration in registrations:
        for news in paid_and_expired(fake_stripe, payment_of(registration).checkout_session_id):
            deliveries.append((news, signed(fake_stripe, news)))

    answers = deliver_together(stripe_server, fake_stripe, deliveries)

    assert [status for status, _ in answers] == [200] * len(deliveries), stripe_server.log()
    outcomes = Counter(outcome(answer) for _, answer in answers)
    assert outcomes["confirmed"] == buyers
    db.session.rollback()  # end the test's read transaction: see what the server committed
    assert set(outcomes) <= {"confirmed", "already paid", "hold released"}
    for registration in registrations:
        assert status_of(registration) == "confirmed"
        payment = payment_of(registration)
        assert (payment.status, payment.refund_status) == ("paid", "none")
        assert messages(registration, "confirmation") == 1
    assert seats_taken(event) == buyers


def test_a_signed_event_about_an_object_without_an_id_is_acknowledged(client, fake_stripe):
    event = fake_stripe.event("checkout.session.completed", {"object": "checkout.session"})
    status, answer = deliver(client, fake_stripe, event)
    assert (status, outcome(answer)) == (200, "ignored")
