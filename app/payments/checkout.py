"""Opening Stripe Checkout for a held seat, or offering again the session still open."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from app.db import db, insert_ignoring_conflict, utcnow, writing
from app.events.models import Event
from app.languages import N_, speaking
from app.mail.outbox import stamp
from app.payments import gateway
from app.payments.models import Payment
from app.payments.records import held_by, locked
from app.registrations import services as registrations
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.payment_hooks import PaymentUnavailable

log = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than this after it is created.
SHORTEST_SESSION = timedelta(minutes=30, seconds=30)
LONGEST_SESSION = timedelta(hours=24)
# A session is not offered again when it has less than this left.
RESUME_MARGIN = timedelta(minutes=2)


def attempt_key(registration: Registration, hold_number: int) -> str:
    """The idempotency key of a registration's Checkout Session for one hold.

    The same registration, registered at the same moment, asking again for the same hold,
    always gets the same key, so Stripe answers with the session it already made.
    """
    return f"checkout-reg{registration.id}-{stamp(registration.created_at)}-{hold_number}"


def checkout_url(registration_id: int) -> str:
    """Where to send this registrant to pay for their held seat.

    The open session of this hold is offered again; otherwise a new one is opened. When
    Stripe cannot open one, the hold is released and `PaymentUnavailable` says why.
    """
    now = utcnow()
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    if registration is None or registration.status != "pending_payment":
        raise PaymentUnavailable(N_("This registration is not waiting for a payment."))
    payments = list(
        db.session.scalars(
            select(Payment).where(
                Payment.registration_id == registration.id,
                Payment.created_at >= registration.created_at,
            )
        )
    )
    if registration.hold_expires_at is not None and registration.hold_expires_at <= now:
        registrations.cancel(registration.id, by="payment")
        raise PaymentUnavailable(
            N_(
                "Your seat was held for a limited time and it has run out, so it was released. "
                "Register again to get a new place."
            )
        )
    for payment in payments:
        if payment.status == "processing" or payment.status == "paid":
            raise PaymentUnavailable(
                N_("Your payment is being processed; there is nothing to pay.")
            )
        resumable = payment.status == "open" and payment.expires_at - now > RESUME_MARGIN
        if resumable and payment.checkout_url:
            return payment.checkout_url
    key = attempt_key(registration, len(payments))
    event = db.session.get(Event, registration.event_id)
    assert event is not None
    # Built from BASE_URL, like the links in emails: the worker has no request to go by.
    page = manage_url(registration)
    expires_at = session_expiry(registration.hold_expires_at, now)
    # Stripe's page shows it to the buyer, in the language they registered in: the same words
    # on every attempt with this key, whoever's browser asks (Stripe refuses a key reused
    # with other parameters).
    with speaking(registration.language):
        description = gettext("%(title)s: one seat", title=event.title)
    db.session.commit()  # no transaction stays open while Stripe is asked
    try:
        checkout = gateway.create_checkout(
            idempotency_key=key,
            reference=f"registration-{registration.id}",
            email=registration.email,
            description=description,
            amount_cents=event.price_cents,
            currency=event.currency,
            success_url=f"{page}/thanks?paid=1",
            cancel_url=f"{page}?checkout=left",
            expires_at=expires_at,
            metadata={"registration_id": str(registration.id), "attempt_key": key},
        )
    except gateway.GatewayError as exc:
        log.warning("Checkout for registration %s failed: %s", registration.id, exc.detail)
        registrations.cancel(registration.id, by="payment")
        raise PaymentUnavailable(exc.message) from exc
    with writing():
        # The registration first, as everywhere (see `records.locked_payment`).
        locked_now = db.session.get(
            Registration, registration_id, with_for_update=True, populate_existing=True
        )
        recorded = record_checkout(checkout, registration_id, event, key)
        still_held = recorded is not None and held_by(recorded)
        if still_held and locked_now is not None and checkout.expires_at is not None:
            locked_now.hold_expires_at = max(locked_now.hold_expires_at or now, checkout.expires_at)
    if not still_held:
        # Cancelled while Stripe was asked: nobody may pay for a seat that is gone.
        expire_quietly(checkout.id)
        raise PaymentUnavailable(N_("This registration is no longer waiting for a payment."))
    assert checkout.url is not None
    return checkout.url


def session_expiry(hold_expires_at: datetime | None, now: datetime) -> datetime:
    """When the Checkout Session of a hold expires: the hold's own end when Stripe allows it.

    The same key must always be sent with the same parameters (Stripe refuses a reused key
    with different ones), so the expiry is not "now + 30 minutes": it is the stored end of
    the hold, or, for a hold too short for Stripe's 30-minute minimum, the next 5-minute
    mark past that minimum, which two requests at nearly the same time agree on.
    """
    if hold_expires_at is not None and hold_expires_at - now >= SHORTEST_SESSION:
        return min(hold_expires_at, now + LONGEST_SESSION)
    earliest = (now + SHORTEST_SESSION).timestamp()
    return datetime.fromtimestamp(math.ceil(earliest / 300) * 300, UTC)


def record_checkout(
    checkout: gateway.Checkout, registration_id: int, event: Event, key: str
) -> Payment | None:
    """The payment row for a session Stripe made (added once, whoever gets here first)."""
    insert_ignoring_conflict(
        Payment,
        ["attempt_key"],
        registration_id=registration_id,
        event_id=event.id,
        attempt_key=key,
        checkout_session_id=checkout.id,
        checkout_url=checkout.url,
        amount_cents=checkout.amount_total or event.price_cents,
        currency=checkout.currency or event.currency,
        status="open",
        expires_at=checkout.expires_at or utcnow() + SHORTEST_SESSION,
        refund_status="none",
        refunded_cents=0,
        refund_attempts=0,
        refund_round=0,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    return locked(select(Payment).where(Payment.attempt_key == key))


def expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_checkout(session_id)
    except gateway.GatewayError as exc:
        # It expires by itself within the hour; a payment made meanwhile is refunded.
        log.warning("could not expire Checkout Session %s: %s", session_id, exc.detail)
