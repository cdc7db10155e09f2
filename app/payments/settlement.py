"""Settling what Stripe reports, by webhook or asked by reconciliation: paid, expired, refunded."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.db import db, insert_ignoring_conflict, utcnow, writing
from app.events.models import Event
from app.payments import gateway, signals
from app.payments.checkout import attempt_key, expire_quietly, record_checkout
from app.payments.models import Payment, StripeEvent
from app.payments.records import STILL_OPEN, held_by, locked_payment, of_this_life
from app.payments.refunds import owe_refund, tell_refunded
from app.registrations import seats
from app.registrations.models import Registration

# A refund of a payment we have not heard of is delivered again while the charge is younger
# than this; older ones belong to something else on the same Stripe account.
EARLY_REFUND_SECONDS = 3600


class NotYetKnown(Exception):
    """A webhook about something not recorded yet; Stripe is asked to deliver it again."""


@dataclass
class Settled:
    outcome: str
    # Sessions to close at Stripe once the transaction is committed.
    to_expire: list[str]


def handle_webhook(event: gateway.WebhookEvent) -> str:
    """Act on a verified webhook once: the event id is recorded in the same transaction as
    its effects, so a replay, or the same event delivered twice at once, changes nothing."""
    with writing():
        if not insert_ignoring_conflict(
            StripeEvent,
            ["id"],
            id=event.id,
            type=event.type[:100],
            outcome="",
            received_at=utcnow(),
        ):
            return "replay"
        settled = _apply(event.type, event.object)
        db.session.execute(
            update(StripeEvent).where(StripeEvent.id == event.id).values(outcome=settled.outcome)
        )
    for session_id in settled.to_expire:
        expire_quietly(session_id)
    return settled.outcome


def _apply(kind: str, obj: dict[str, Any]) -> Settled:
    if not isinstance(obj.get("id"), str):
        return Settled("ignored", [])  # signed, yet about nothing we could look up
    if kind.startswith("checkout.session."):
        return settle_checkout(gateway.Checkout.from_stripe(obj), kind=kind)
    if kind == "charge.refunded":
        return Settled(_refunded_at_stripe(obj), [])
    if kind in ("refund.updated", "refund.failed", "charge.refund.updated"):
        return Settled(_refund_changed(obj), [])
    return Settled("ignored", [])


def settle_checkout(checkout: gateway.Checkout, *, kind: str = "") -> Settled:
    """Bring our payment in line with what Stripe says the session became (inside a write
    transaction). Used by the webhook and by reconciliation alike."""
    payment = _payment_for(checkout)
    if payment is None:
        return Settled("unknown session", [])
    now = utcnow()
    # A session paid is complete; the event's name also says what became of it.
    if checkout.payment_status == "paid":
        return Settled(_paid(payment, checkout, now), [])
    if kind.endswith("async_payment_failed"):
        return Settled(_released(payment, "failed"), [])
    if checkout.status == "expired" or kind.endswith(".expired"):
        return Settled(_released(payment, "expired"), [])
    if checkout.status == "complete":
        # A delayed payment method: the money is on its way; the seat stays held for it.
        if payment.status != "open":
            return Settled(f"already {payment.status}", [])
        payment.status = "processing"
        payment.payment_intent_id = checkout.payment_intent or payment.payment_intent_id
        if held_by(payment):
            # Such payments take days; reconciliation asks Stripe about it once a day.
            payment.registration.hold_expires_at = now + timedelta(days=1)
        return Settled("processing", [])
    return Settled("open", [])


def _payment_for(checkout: gateway.Checkout) -> Payment | None:
    payment = locked_payment(Payment.checkout_session_id == checkout.id)
    if payment is not None:
        return payment
    # The session was made but its row never written (the process stopped in between):
    # the metadata we sent says whose it is.
    key = checkout.metadata.get("attempt_key") or ""
    registration_id = checkout.metadata.get("registration_id", "")
    # Only our own ids: ASCII digits that fit the column ("١٢" is a digit to Python).
    if not (registration_id.isascii() and registration_id.isdigit() and len(registration_id) < 10):
        return None
    registration = db.session.get(
        Registration, int(registration_id), with_for_update=True, populate_existing=True
    )
    # The key names the registration and the moment it registered: a session made by
    # another installation on the same Stripe account (or an earlier life of this
    # registration) does not match.
    if registration is None or not key.startswith(attempt_key(registration, 0)[:-1]):
        return None
    event = db.session.get(Event, registration.event_id)
    assert event is not None
    return record_checkout(checkout, registration.id, event, key)


def _paid(payment: Payment, checkout: gateway.Checkout, now: datetime) -> str:
    if payment.status == "paid":
        return "already paid"
    lapsed = payment.status in ("expired", "failed")
    payment.status = "paid"
    payment.paid_at = now
    payment.payment_intent_id = checkout.payment_intent or payment.payment_intent_id
    if checkout.amount_total:
        payment.amount_cents = checkout.amount_total
    signals.paid.send(payment)
    registration = payment.registration  # locked and loaded with the payment
    current = of_this_life(payment, registration)
    if current and seats.confirm_paid(registration, now, reseat=lapsed):
        return "confirmed"
    # Paid for a seat that is no longer theirs (the hold ran out and the seat went to
    # someone else, they cancelled, the event was cancelled): the money goes back.
    owe_refund(payment, "late_payment", now)
    return "refunding late payment"


def _released(payment: Payment, status: str) -> str:
    if payment.status not in STILL_OPEN:
        return f"already {payment.status}"
    payment.status = status
    # The registration is locked (see `records.locked_payment`), so a payment of another session of
    # this hold settling at the same moment is seen committed (or waits for us), never
    # half-way.
    if not held_by(payment):
        return status
    # The Pay button opens a fresh session when this one is about to run out: while the
    # buyer may still pay that one, the seat stays theirs (its own expiry releases it).
    other_open = db.session.scalar(
        select(func.count()).where(
            Payment.registration_id == payment.registration_id,
            Payment.id != payment.id,
            Payment.created_at >= payment.registration.created_at,
            Payment.status.in_(STILL_OPEN),
        )
    )
    if other_open:
        return "newer session open"
    seats.withdraw(payment.registration, by="payment")
    return "hold released"


def _refund_changed(refund: dict[str, Any]) -> str:
    """A refund we asked for finished later: it succeeded, or the bank sent it back."""
    # Every field is read first: a malformed one refuses the event whoever it is about.
    refund_id = gateway.text_of(refund, "id")
    status = gateway.text_of(refund, "status")
    amount = gateway.amount_of(refund, "amount") or 0
    reason = gateway.text_of(refund, "failure_reason") or status
    if not refund_id:
        return "ignored"
    payment = locked_payment(Payment.refund_id == refund_id)
    if payment is None:
        return "unknown refund"
    if status == "succeeded" and payment.refund_status == "pending":
        payment.refund_status = "succeeded"
        return "refund succeeded"
    if status in ("failed", "canceled") and payment.refund_status in ("pending", "succeeded"):
        # The money did not reach the buyer: staff see why and can try again.
        payment.refunded_cents = max(payment.refunded_cents - amount, 0)
        payment.refund_status = "failed"
        payment.refund_error = f"Stripe reports the refund {status}: {reason}."
        return "refund failed"
    return "nothing new"


def _refunded_at_stripe(charge: dict[str, Any]) -> str:
    # Every field is read first: a malformed one refuses the event whoever it is about.
    intent = gateway.text_of(charge, "payment_intent")
    refunded_at_stripe = gateway.amount_of(charge, "amount_refunded") or 0
    if not intent:
        return "ignored"
    payment = locked_payment(Payment.payment_intent_id == intent)
    if payment is None:
        created = charge.get("created")
        if isinstance(created, int) and time.time() - created < EARLY_REFUND_SECONDS:
            # Refunded before its payment's own webhook was handled: ask Stripe to deliver
            # this again later, when the payment is known, rather than lose it.
            raise NotYetKnown("The payment this refund belongs to is not recorded yet.")
        return "unknown payment"
    refunded = min(refunded_at_stripe, payment.amount_cents)
    ours = payment.refund_status in ("due", "pending", "succeeded")
    if refunded < payment.refunded_cents or (
        refunded == payment.refunded_cents and payment.refund_status != "pending"
    ):
        return "nothing new"
    payment.refunded_cents = refunded
    if payment.fully_refunded:
        payment.refund_status = "succeeded"
        payment.refunded_at = payment.refunded_at or utcnow()
    if not ours:
        # Refunded in the Stripe dashboard: the seat was not kept without money.
        payment.refund_reason = payment.refund_reason or "dashboard"
        registration = payment.registration
        if payment.fully_refunded and registration.status == "confirmed":
            seats.withdraw(registration, by="staff")
    tell_refunded(payment)
    return "refund recorded"
