"""`payments reconcile`: holds whose webhook never came are settled by asking Stripe."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.db import db, utcnow
from app.payments.reconcile import reconcile
from app.registrations.models import Registration
from app.registrations.services import cancel
from app.worker import run_due_jobs
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    make_paid_event,
    payment_of,
    register_via_api,
    seats_taken,
    status_of,
)


def let_hold_lapse(registration_id: int) -> None:
    db.session.execute(
        update(Registration)
        .where(Registration.id == registration_id)
        .values(hold_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()


def test_a_hold_paid_at_stripe_whose_webhook_never_came_is_confirmed(client, fake_stripe, runner):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    fake_stripe.pay(payment_of(body["id"]).checkout_session_id)  # no webhook delivered
    let_hold_lapse(body["id"])
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "confirmed: 1" in result.output
    assert status_of(body["id"]) == "confirmed"
    assert payment_of(body["id"]).status == "paid"
    assert seats_taken(event) == 1


def test_a_hold_still_open_at_stripe_is_closed_there_and_its_seat_given_on(
    client, fake_stripe, runner
):
    event = make_paid_event(capacity=1)
    first = register_via_api(client, event, "first@example.com")
    waiting = register_via_api(client, event, "second@example.com")
    session_id = payment_of(first["id"]).checkout_session_id
    let_hold_lapse(first["id"])
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert status_of(first["id"]) == "cancelled"
    assert status_of(waiting["id"]) == "pending_payment"
    assert seats_taken(event) == 1


def test_a_hold_that_never_reached_stripe_is_released(client, fake_stripe):
    event = make_paid_event(capacity=1)
    first = register_via_api(client, event, "first@example.com")
    waiting = register_via_api(client, event, "second@example.com")
    cancel(first["id"])  # the promoted registrant has not pressed Pay yet
    assert status_of(waiting["id"]) == "pending_payment"
    let_hold_lapse(waiting["id"])
    assert reconcile() == {"hold released": 1}
    assert status_of(waiting["id"]) == "cancelled"
    assert seats_taken(event) == 0


def test_a_delayed_payment_on_its_way_keeps_its_seat(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    fake_stripe.pay(payment_of(body["id"]).checkout_session_id, delayed=True)
    let_hold_lapse(body["id"])
    assert reconcile() == {"processing": 1}
    assert status_of(body["id"]) == "pending_payment"
    assert payment_of(body["id"]).status == "processing"
    # Asked again only a day later.
    assert reconcile() == {}


def test_when_stripe_cannot_be_reached_the_hold_waits_for_the_next_pass(
    client, fake_stripe, runner
):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    let_hold_lapse(body["id"])
    fake_stripe.fail_next("GET", "/v1/checkout/sessions", status=500, error_type="api_error")
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "left for later" in result.output
    assert status_of(body["id"]) == "pending_payment"
    # The worker's minute pass settles it once Stripe answers.
    run_due_jobs()
    assert status_of(body["id"]) == "cancelled"


def test_the_worker_leaves_an_unreachable_hold_for_later_as_the_command_does(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    let_hold_lapse(body["id"])
    fake_stripe.fail_next("GET", "/v1/checkout/sessions", status=500, error_type="api_error")
    (outcome,) = reconcile()
    assert outcome.startswith("left for later (")
    assert status_of(body["id"]) == "pending_payment"


def test_holds_still_within_their_time_are_left_alone(client, fake_stripe, runner):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    result = runner.invoke(args=["payments", "reconcile"])
    assert "nothing to settle" in result.output
    assert status_of(body["id"]) == "pending_payment"
    assert [c for c in fake_stripe.requests if c.method == "GET"] == []


def test_reconcile_without_stripe_configured_says_so(app, runner):
    app.config["STRIPE_SECRET_KEY"] = None
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code != 0
    assert "Stripe is not configured" in result.output
