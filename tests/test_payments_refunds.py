"""Refunds: a cancelled paid seat gets its money back by the refund rules, once, whatever fails."""

from __future__ import annotations

from sqlalchemy import update

from app.db import db
from app.events.services import cancel_event
from app.mail.models import OutboxMessage
from app.payments.models import Payment
from app.payments.refunds import REFUND_ATTEMPTS, issue_due_refunds, retry_refund
from app.registrations.models import Registration
from app.registrations.services import cancel
from app.worker import run_due_jobs
from tests.builders import cancel_in_two_steps, csrf_token, log_in, make_user
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    deliver,
    make_paid_event,
    paid_seat,
    payment_of,
    refund_calls,
    register_via_api,
    seats_taken,
    status_of,
)


def kinds_sent_to(registration_id):
    return db.session.scalars(
        db.select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration_id)
    ).all()


def cancel_through_the_manage_page(client, registration_id):
    from app.registrations.links import manage_token

    registration = db.session.get(Registration, registration_id)
    token = manage_token(registration)
    response = cancel_in_two_steps(client, f"/r/{token}")
    assert response.status_code == 303


def test_registrant_who_cancels_in_time_is_refunded_in_full_once(client, fake_stripe):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel_through_the_manage_page(client, registration_id)
    # The cancelling request made the refund itself, before its answer went out.
    payment = payment_of(registration_id)
    assert payment.refund_reason == "registrant"
    assert seats_taken(event) == 0
    (call,) = refund_calls(fake_stripe)
    assert call.idempotency_key == f"refund-payment-{payment.id}"
    assert call.params["amount"] == "4900"
    assert call.params["payment_intent"] == payment.payment_intent_id
    payment = payment_of(registration_id)
    assert payment.refund_status == "succeeded" and payment.refunded_cents == 4900
    assert "refunded" in kinds_sent_to(registration_id)
    # Nothing is refunded twice.
    assert issue_due_refunds() == 0
    assert len(refund_calls(fake_stripe)) == 1


def test_registrant_who_cancels_after_the_refund_window_keeps_no_refund(client, fake_stripe):
    # The event starts in three days; refunds end four days before it.
    event = make_paid_event(refund_until_hours_before=96)
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel_through_the_manage_page(client, registration_id)
    assert payment_of(registration_id).refund_status == "declined"
    assert issue_due_refunds() == 0
    assert refund_calls(fake_stripe) == []
    assert seats_taken(event) == 0


def test_staff_cancelling_a_paid_seat_refunds_it_even_after_the_window(client, fake_stripe):
    event = make_paid_event(refund_until_hours_before=96)
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}/registrations")
    response = client.post(
        f"/admin/events/{event.slug}/registrations/{registration_id}/cancel",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert response.status_code in (302, 303)
    assert payment_of(registration_id).refund_reason == "staff"
    assert payment_of(registration_id).refund_status == "succeeded"
    assert len(refund_calls(fake_stripe)) == 1


def test_cancelling_the_event_refunds_everyone_who_paid(client, fake_stripe):
    event = make_paid_event(capacity=5)
    paid = [paid_seat(client, fake_stripe, event, f"p{n}@example.com")["id"] for n in range(3)]
    holding = register_via_api(client, event, "holding@example.com")
    cancel_event(event)
    assert issue_due_refunds() == 3
    assert {payment_of(r).refund_reason for r in paid} == {"event_cancelled"}
    assert {payment_of(r).refunded_cents for r in paid} == {4900}
    keys = {c.idempotency_key for c in refund_calls(fake_stripe)}
    assert keys == {f"refund-payment-{payment_of(r).id}" for r in paid}
    # The open Checkout of the seat still waiting for payment was closed at Stripe.
    session = fake_stripe.sessions[payment_of(holding["id"]).checkout_session_id]
    assert session["status"] == "expired"


def test_a_refund_stripe_refuses_is_tried_again_with_the_same_key(client, fake_stripe):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel(registration_id, by="registrant")
    fake_stripe.fail_next("POST", "/v1/refunds", status=500, error_type="api_error")
    assert issue_due_refunds() == 0
    payment = payment_of(registration_id)
    assert payment.refund_status == "due" and payment.refund_attempts == 1
    assert "APIError" in payment.refund_error
    # Not due again at once: it waits a little.
    assert issue_due_refunds() == 0
    db.session.execute(update(Payment).values(refund_next_attempt_at=payment.created_at))
    db.session.commit()
    assert issue_due_refunds() == 1
    keys = [c.idempotency_key for c in refund_calls(fake_stripe)]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert payment_of(registration_id).refund_status == "succeeded"


def test_a_refund_that_keeps_failing_is_shown_as_failed_and_can_be_retried(client, fake_stripe):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel(registration_id, by="staff")
    fake_stripe.fail_next(
        "POST", "/v1/refunds", status=500, error_type="api_error", times=REFUND_ATTEMPTS
    )
    for _ in range(REFUND_ATTEMPTS):
        db.session.execute(update(Payment).values(refund_next_attempt_at=db.func.now()))
        db.session.commit()
        issue_due_refunds(now=payment_of(registration_id).created_at.replace(year=2100))
    payment = payment_of(registration_id)
    assert payment.refund_status == "failed"
    retry_refund(payment.id)
    assert issue_due_refunds() == 1
    assert payment_of(registration_id).refund_status == "succeeded"


def test_a_registrant_who_cancels_before_paying_cannot_pay_afterwards(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    session_id = payment_of(body["id"]).checkout_session_id
    cancel_through_the_manage_page(client, body["id"])
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert payment_of(body["id"]).status == "abandoned"
    assert seats_taken(event) == 0
    assert refund_calls(fake_stripe) == []


def test_a_payment_for_a_seat_given_up_meanwhile_is_refunded(client, fake_stripe):
    """The buyer paid in one tab while cancelling in another: the money goes back."""
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    paid = fake_stripe.pay(payment_of(body["id"]).checkout_session_id)
    cancel_through_the_manage_page(client, body["id"])
    assert deliver(client, fake_stripe, paid)[0] == 200
    assert status_of(body["id"]) == "cancelled"
    assert payment_of(body["id"]).refund_reason == "late_payment"
    assert payment_of(body["id"]).refund_status == "succeeded"
    assert issue_due_refunds() == 0
    assert seats_taken(event) == 0


def test_a_free_event_cancellation_asks_nothing_of_stripe(client, fake_stripe):
    from tests.builders import make_event

    event = make_event(slug="free-talk")
    body = register_via_api(client, event, "ada@example.com")
    assert body["checkout_url"] is None and body["status"] == "confirmed"
    cancel(body["id"])
    assert fake_stripe.requests == []


def test_a_hold_released_after_the_event_is_cancelled_lets_nobody_in(client, fake_stripe):
    event = make_paid_event(capacity=1)
    holding = register_via_api(client, event, "holding@example.com")
    waiting = register_via_api(client, event, "waiting@example.com")
    session_id = payment_of(holding["id"]).checkout_session_id
    cancel_event(event)
    # The cancellation closed the session at Stripe, which reports it.
    session = fake_stripe.sessions[session_id]
    assert session["status"] == "expired"
    expired = fake_stripe.event("checkout.session.expired", session)
    assert deliver(client, fake_stripe, expired)[0] == 200
    assert status_of(holding["id"]) == "cancelled"
    assert status_of(waiting["id"]) == "waitlisted"


def test_a_refund_the_bank_sends_back_shows_as_failed_and_a_retry_uses_a_new_key(
    client, fake_stripe
):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel(registration_id, by="staff")
    assert issue_due_refunds() == 1
    payment = payment_of(registration_id)
    refund = dict(fake_stripe.refunds[payment.refund_id])
    refund |= {"status": "failed", "failure_reason": "expired_or_canceled_card"}

    status, _ = deliver(client, fake_stripe, fake_stripe.event("refund.failed", refund))
    assert status == 200
    payment = payment_of(registration_id)
    assert payment.refund_status == "failed" and payment.refunded_cents == 0
    assert "expired_or_canceled_card" in payment.refund_error

    retry_refund(payment.id)
    # Stripe's own record of the first refund is given back, so the retry is not refused.
    fake_stripe.charges[fake_stripe.payment_intents[payment.payment_intent_id]["latest_charge"]][
        "amount_refunded"
    ] = 0
    assert issue_due_refunds() == 1
    keys = [c.idempotency_key for c in refund_calls(fake_stripe)]
    assert keys == [f"refund-payment-{payment.id}", f"refund-payment-{payment.id}-retry1"]
    assert payment_of(registration_id).refund_status == "succeeded"


def test_a_pending_refund_becomes_succeeded_when_stripe_says_so(client, fake_stripe):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel(registration_id, by="staff")
    issue_due_refunds()
    payment = payment_of(registration_id)
    db.session.execute(update(Payment).values(refund_status="pending"))
    db.session.commit()
    refund = dict(fake_stripe.refunds[payment.refund_id]) | {"status": "succeeded"}
    status, answer = deliver(client, fake_stripe, fake_stripe.event("refund.updated", refund))
    assert status == 200 and b"refund succeeded" in answer
    assert payment_of(registration_id).refund_status == "succeeded"


def test_a_refund_the_request_could_not_make_is_left_due_for_the_worker(client, fake_stripe):
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    fake_stripe.fail_next("POST", "/v1/refunds", status=500, error_type="api_error")
    cancel_through_the_manage_page(client, registration_id)
    assert status_of(registration_id) == "cancelled"  # the cancel itself stands
    payment = payment_of(registration_id)
    assert payment.refund_status == "due" and payment.refund_attempts == 1
    db.session.execute(update(Payment).values(refund_next_attempt_at=payment.created_at))
    db.session.commit()
    assert run_due_jobs()["payments"] == 1
    assert payment_of(registration_id).refund_status == "succeeded"
    keys = {c.idempotency_key for c in refund_calls(fake_stripe)}
    assert keys == {f"refund-payment-{payment.id}"}


def test_a_seat_paid_before_the_event_was_made_free_is_still_refunded(client, fake_stripe):
    from app.events.services import update_event

    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    update_event(event, {"price_cents": 0})
    cancel(registration_id, by="staff")
    assert issue_due_refunds() == 1
    assert payment_of(registration_id).refund_status == "succeeded"
