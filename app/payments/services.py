"""Paying for a held seat: opening Checkout, settling what Stripe reports, refunds, reconciling.

The rules: money is never kept without a seat, a seat is never given without money, and the
buyer's browser coming back proves nothing. Only Stripe's word (a signed webhook, or its
answer when reconciliation asks) settles a payment. Calls to Stripe happen outside write
transactions; what they lead to is written in one transaction, under a lock on the payment,
so deliveries of the same news that race each other settle it once.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from app.db import db, insert_ignoring_conflict, utcnow, writing
from app.events.models import Event
from app.mail.outbox import note_draft, queue, stamp
from app.payments import gateway
from app.payments.models import Payment, StripeEvent
from app.registrations import seats
from app.registrations import services as registrations
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.payment_hooks import PaymentUnavailable
from app.worker import wake_after_commit

log = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than this after it is created.
SHORTEST_SESSION = timedelta(minutes=30, seconds=30)
LONGEST_SESSION = timedelta(hours=24)
# A session is not offered again when it has less than this left.
RESUME_MARGIN = timedelta(minutes=2)
# Refunds Stripe could not make are tried again this many times, further apart each time.
REFUND_ATTEMPTS = 8
STILL_OPEN = ("open", "processing")
# A refund of a payment we have not heard of is delivered again while the charge is younger
# than this; older ones belong to something else on the same Stripe account.
EARLY_REFUND_SECONDS = 3600


class NotYetKnown(Exception):
    """A webhook about something not recorded yet; Stripe is asked to deliver it again."""


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
        raise PaymentUnavailable("This registration is not waiting for a payment.")
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
            "Your seat was held for a limited time and it has run out, so it was released. "
            "Register again to get a new place."
        )
    for payment in payments:
        if payment.status == "processing" or payment.status == "paid":
            raise PaymentUnavailable("Your payment is being processed; there is nothing to pay.")
        resumable = payment.status == "open" and payment.expires_at - now > RESUME_MARGIN
        if resumable and payment.checkout_url:
            return payment.checkout_url
    key = attempt_key(registration, len(payments))
    event = db.session.get(Event, registration.event_id)
    assert event is not None
    # Built from BASE_URL, like the links in emails: the worker has no request to go by.
    page = manage_url(registration)
    expires_at = session_expiry(registration.hold_expires_at, now)
    db.session.commit()  # no transaction stays open while Stripe is asked
    try:
        checkout = gateway.create_checkout(
            idempotency_key=key,
            reference=f"registration-{registration.id}",
            email=registration.email,
            description=f"{event.title}: one seat",
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
        # The registration first, as everywhere (see `_locked_payment`).
        registration = db.session.get(
            Registration, registration.id, with_for_update=True, populate_existing=True
        )
        payment = _record_checkout(checkout, registration.id, event, key)
        still_held = payment is not None and _held_by(payment)
        if still_held and checkout.expires_at is not None:
            registration.hold_expires_at = max(
                registration.hold_expires_at or now, checkout.expires_at
            )
    if not still_held:
        # Cancelled while Stripe was asked: nobody may pay for a seat that is gone.
        _expire_quietly(checkout.id)
        raise PaymentUnavailable("This registration is no longer waiting for a payment.")
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


def _record_checkout(
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
    return _locked(select(Payment).where(Payment.attempt_key == key))


def _locked_payment(condition: Any) -> Payment | None:
    """The payment matching `condition`, locked after its registration.

    Every transaction that touches both locks the registration first (a cancel updates it,
    then looks for its payment), so two of them never wait on each other in a circle.
    """
    registration_id = db.session.scalar(select(Payment.registration_id).where(condition))
    if registration_id is None:
        return None
    db.session.get(Registration, registration_id, with_for_update=True, populate_existing=True)
    return _locked(select(Payment).where(condition))


def _locked(statement: Any) -> Payment | None:
    # FOR UPDATE on PostgreSQL; SQLite's write transaction already excludes other writers.
    return db.session.scalars(
        statement.with_for_update().execution_options(populate_existing=True)
    ).first()


def _held_by(payment: Payment) -> bool:
    """Whether the registration is still holding its seat for this payment.

    Its callers have just locked and loaded the registration (see `_locked_payment`), so it
    is read from the session, not fetched again.
    """
    registration = payment.registration
    return registration.status == "pending_payment" and _of_this_life(payment, registration)


def _of_this_life(payment: Payment, registration: Registration) -> bool:
    # A registration made again after a cancel keeps its row but starts afresh (its
    # created_at is the new registration's moment): earlier payments are not its own.
    return payment.created_at >= registration.created_at


def _expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_checkout(session_id)
    except gateway.GatewayError as exc:
        # It expires by itself within the hour; a payment made meanwhile is refunded.
        log.warning("could not expire Checkout Session %s: %s", session_id, exc.detail)


# --- what Stripe tells us ------------------------------------------------------------------


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
        _expire_quietly(session_id)
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
        if _held_by(payment):
            # Such payments take days; reconciliation asks Stripe about it once a day.
            payment.registration.hold_expires_at = now + timedelta(days=1)
        return Settled("processing", [])
    return Settled("open", [])


def _payment_for(checkout: gateway.Checkout) -> Payment | None:
    payment = _locked_payment(Payment.checkout_session_id == checkout.id)
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
    return _record_checkout(checkout, registration.id, event, key)


def _paid(payment: Payment, checkout: gateway.Checkout, now: datetime) -> str:
    if payment.status == "paid":
        return "already paid"
    lapsed = payment.status in ("expired", "failed")
    payment.status = "paid"
    payment.paid_at = now
    payment.payment_intent_id = checkout.payment_intent or payment.payment_intent_id
    if checkout.amount_total:
        payment.amount_cents = checkout.amount_total
    registration = payment.registration  # locked and loaded with the payment
    current = _of_this_life(payment, registration)
    if current and seats.confirm_paid(registration, now, reseat=lapsed):
        return "confirmed"
    # Paid for a seat that is no longer theirs (the hold ran out and the seat went to
    # someone else, they cancelled, the event was cancelled): the money goes back.
    _owe_refund(payment, "late_payment", now)
    return "refunding late payment"


def _released(payment: Payment, status: str) -> str:
    if payment.status not in STILL_OPEN:
        return f"already {payment.status}"
    payment.status = status
    # The registration is locked (see `_locked_payment`), so a payment of another session of
    # this hold settling at the same moment is seen committed (or waits for us), never
    # half-way.
    if not _held_by(payment):
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
    payment = _locked_payment(Payment.refund_id == refund_id)
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
    payment = _locked_payment(Payment.payment_intent_id == intent)
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
    _tell_refunded(payment)
    return "refund recorded"


# --- refunds -------------------------------------------------------------------------------


def owe_refund_for(registration: Registration, previous_status: str, by: str) -> None:
    """A registration holding a paid seat was cancelled (inside its transaction): decide
    whether its money goes back, by the refund rules."""
    payment = _paid_payment(registration)
    if payment is None:
        if previous_status == "pending_payment" and by != "payment":
            _abandon_open_sessions(registration)
        return
    if payment.refund_status != "none":
        return
    event = registration.event
    now = utcnow()
    if by == "registrant" and now >= event.refund_deadline:
        payment.refund_status = "declined"
        return
    _owe_refund(payment, "registrant" if by == "registrant" else "staff", now)


def owe_refunds_for_event(event: Event) -> None:
    """An event was cancelled: everyone who paid gets their money back."""
    now = utcnow()
    result = db.session.execute(
        update(Payment)
        .where(
            Payment.event_id == event.id,
            Payment.status == "paid",
            Payment.refund_status.in_(("none", "declined")),
            Payment.refunded_cents < Payment.amount_cents,
        )
        .values(refund_status="due", refund_reason="event_cancelled", refund_next_attempt_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount:
        _refunds_owed()
    # Holds still open are closed too, so nobody pays for a cancelled event.
    open_sessions = db.session.scalars(
        select(Payment.checkout_session_id).where(
            Payment.event_id == event.id, Payment.status == "open"
        )
    ).all()
    _after_commit_expire(list(open_sessions))


def _paid_payment(registration: Registration) -> Payment | None:
    return db.session.scalars(
        select(Payment)
        .where(Payment.registration_id == registration.id, Payment.status == "paid")
        .order_by(Payment.id.desc())
        .with_for_update()
    ).first()


def _abandon_open_sessions(registration: Registration) -> None:
    sessions = list(
        db.session.scalars(
            select(Payment).where(
                Payment.registration_id == registration.id, Payment.status == "open"
            )
        )
    )
    for payment in sessions:
        payment.status = "abandoned"
    _after_commit_expire([payment.checkout_session_id for payment in sessions])


EXPIRE_AFTER_COMMIT = "reserve_payments_expire"


def _after_commit_expire(session_ids: list[str]) -> None:
    if session_ids:
        db.session.info.setdefault(EXPIRE_AFTER_COMMIT, []).extend(session_ids)


def expire_sessions(session_ids: list[str]) -> None:
    """Close at Stripe the sessions a commit gave up (best effort: they would expire by
    themselves, and a payment made meanwhile is refunded)."""
    for session_id in session_ids:
        _expire_quietly(session_id)


def _owe_refund(payment: Payment, reason: str, now: datetime) -> None:
    if payment.refund_status in ("due", "pending", "succeeded") or payment.fully_refunded:
        return
    payment.refund_status = "due"
    payment.refund_reason = reason
    payment.refund_next_attempt_at = now
    payment.refund_error = None
    _refunds_owed()


REFUNDS_OWED = "reserve_payments_refunds_owed"
# A request that owed refunds makes this many itself, after its commit; the worker the rest.
REFUNDS_IN_REQUEST = 20


def _refunds_owed() -> None:
    # The worker is woken after the commit; the request itself also tries at its end.
    wake_after_commit()
    db.session.info[REFUNDS_OWED] = True


def refund_after_request() -> None:
    """Make the refunds the request's transactions owed, before the answer goes out, so
    the registrant's next page already says "refunded". Best effort: what fails or is left
    over stays due for the worker, and the idempotency key keeps the two from doubling."""
    try:
        issue_due_refunds(limit=REFUNDS_IN_REQUEST)
    except Exception:
        db.session.rollback()
        log.exception("refunds after the request failed; the worker will make them")


def issue_due_refunds(now: datetime | None = None, *, limit: int = 100) -> int:
    """Ask Stripe for every refund owed (a worker job); returns how many were made.

    The idempotency key is the payment's: two workers, or a retry after a crash, refund once.
    """
    now = now or utcnow()
    due = db.session.execute(
        select(
            Payment.id,
            Payment.payment_intent_id,
            Payment.amount_cents,
            Payment.refunded_cents,
            Payment.refund_round,
        )
        .where(Payment.refund_status == "due", Payment.refund_next_attempt_at <= now)
        .order_by(Payment.refund_next_attempt_at)
        .limit(limit)
    ).all()
    db.session.commit()
    made = 0
    for row in due:
        try:
            intent = row.payment_intent_id or _payment_intent_from_stripe(row.id)
            if intent is None:
                _refund_failed(row.id, "Stripe gave no payment to refund.", now)
                continue
            refund = gateway.refund(
                payment_intent=intent,
                amount_cents=row.amount_cents - row.refunded_cents,
                idempotency_key=refund_key(row.id, row.refund_round),
                metadata={"payment_id": str(row.id)},
            )
        except gateway.GatewayError as exc:
            _refund_failed(row.id, exc.detail or exc.message, now)
            continue
        with writing():
            payment = _locked(select(Payment).where(Payment.id == row.id))
            if payment is None or payment.refund_status != "due":
                continue
            payment.refund_id = refund.id or payment.refund_id
            payment.refund_attempts += 1
            if refund.status in ("succeeded", "pending"):
                # Nothing refunded now means Stripe had refunded it all already.
                refunded = payment.refunded_cents + refund.amount if refund.amount else None
                payment.refunded_cents = min(refunded or payment.amount_cents, payment.amount_cents)
                payment.refund_status = refund.status
                payment.refunded_at = now
                _tell_refunded(payment)
                made += 1
            else:
                payment.refund_status = "failed"
                payment.refund_error = f"Stripe answered the refund with status {refund.status}."
    return made


def _payment_intent_from_stripe(payment_id: int) -> str | None:
    """The payment intent of a paid session whose webhook did not carry it: asked of Stripe."""
    session_id = db.session.scalar(
        select(Payment.checkout_session_id).where(Payment.id == payment_id)
    )
    db.session.commit()
    intent = gateway.find_checkout(session_id).payment_intent if session_id else None
    if intent is not None:
        with writing():
            db.session.execute(
                update(Payment).where(Payment.id == payment_id).values(payment_intent_id=intent)
            )
    return intent


def refund_key(payment_id: int, refund_round: int) -> str:
    """The idempotency key of a payment's refund: one per payment, and a new one only when
    staff retry a refund Stripe turned down."""
    key = f"refund-payment-{payment_id}"
    return key if refund_round == 0 else f"{key}-retry{refund_round}"


def _refund_failed(payment_id: int, error: str, now: datetime) -> None:
    with writing():
        payment = _locked(select(Payment).where(Payment.id == payment_id))
        if payment is None or payment.refund_status != "due":
            return
        payment.refund_attempts += 1
        payment.refund_error = error[:2000]
        if payment.refund_attempts >= REFUND_ATTEMPTS:
            payment.refund_status = "failed"
        else:
            payment.refund_next_attempt_at = now + timedelta(minutes=2**payment.refund_attempts)


def retry_refund(payment_id: int) -> None:
    """Staff ask for a failed refund to be tried again."""
    with writing():
        payment = _locked(select(Payment).where(Payment.id == payment_id))
        if payment is not None and payment.refund_status == "failed":
            payment.refund_status = "due"
            payment.refund_attempts = 0
            payment.refund_round += 1
            payment.refund_next_attempt_at = utcnow()
            _refunds_owed()


def _tell_refunded(payment: Payment) -> None:
    key = f"refunded:payment:{payment.id}"
    queue(
        [
            note_draft(
                "refunded",
                payment.registration,
                key,
                amount_cents=payment.refunded_cents or payment.amount_cents,
                currency=payment.currency,
                reason=payment.refund_reason,
            )
        ]
    )


# --- reconciliation ------------------------------------------------------------------------


def stale_holds(now: datetime) -> list[int]:
    """Registrations still waiting for payment after their hold ran out."""
    return list(
        db.session.scalars(
            select(Registration.id)
            .where(
                Registration.status == "pending_payment",
                or_(Registration.hold_expires_at.is_(None), Registration.hold_expires_at <= now),
            )
            .order_by(Registration.hold_expires_at)
        )
    )


def reconcile_hold(registration_id: int, now: datetime) -> str:
    """Ask Stripe about a hold past its expiry and settle it, as its webhook would have.

    A session still open is closed first, so the buyer cannot pay after we let the seat go;
    a hold that never reached Stripe is simply released.
    """
    sessions = db.session.scalars(
        select(Payment.checkout_session_id).where(
            Payment.registration_id == registration_id, Payment.status.in_(STILL_OPEN)
        )
    ).all()
    db.session.commit()
    outcomes = []
    for session_id in sessions:
        checkout = gateway.find_checkout(session_id)
        if checkout.status == "open":
            checkout = gateway.expire_checkout(session_id)
        with writing():
            outcomes.append(settle_checkout(checkout).outcome)
    with writing():
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        waiting = db.session.scalar(
            select(func.count()).where(
                Payment.registration_id == registration_id, Payment.status.in_(STILL_OPEN)
            )
        )
        stale = registration is not None and registration.status == "pending_payment"
        if stale and not waiting and (registration.hold_expires_at or now) <= now:
            # No payment on its way (or none ever started): the seat goes back.
            seats.withdraw(registration, by="payment")
            outcomes.append("hold released")
    return outcomes[-1] if outcomes else "settled already"


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Settle every stale hold (a worker job and `payments reconcile`); counts by outcome."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for registration_id in stale_holds(now):
        try:
            outcome = reconcile_hold(registration_id, now)
        except gateway.GatewayError as exc:
            db.session.rollback()
            log.warning("could not reconcile registration %s: %s", registration_id, exc.detail)
            outcome = "stripe unavailable"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run_due(now: datetime) -> int:
    """The worker's payments job: stale holds settled, then owed refunds made."""
    if not stripe_ready():
        return 0
    settled = sum(reconcile(now).values())
    return settled + issue_due_refunds(now)


def stripe_ready() -> bool:
    config = current_app.config
    return bool(config.get("STRIPE_SECRET_KEY"))


# --- for the console -----------------------------------------------------------------------


def payments_of(registration_ids: list[int]) -> dict[int, Payment]:
    """The latest payment of each registration (one query, for a page of the console)."""
    if not registration_ids:
        return {}
    latest = (
        select(func.max(Payment.id))
        .where(Payment.registration_id.in_(registration_ids))
        .group_by(Payment.registration_id)
    )
    return {
        payment.registration_id: payment
        for payment in db.session.scalars(select(Payment).where(Payment.id.in_(latest)))
    }


def current_payment(registration: Registration) -> Payment | None:
    """The latest payment of this registration's present life (see `_of_this_life`)."""
    return db.session.scalars(
        select(Payment)
        .where(
            Payment.registration_id == registration.id,
            Payment.created_at >= registration.created_at,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    ).first()


def open_checkout_url(registration: Registration) -> str | None:
    """The Checkout address of a held seat while its session is open; None otherwise."""
    if registration.status != "pending_payment":
        return None
    payment = current_payment(registration)
    if payment is None or payment.status != "open" or payment.expires_at <= utcnow():
        return None
    return payment.checkout_url


def takings(event_id: int) -> dict[str, int]:
    """Paid and refunded totals of an event, in its minor units."""
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Payment.amount_cents), 0),
            func.coalesce(func.sum(Payment.refunded_cents), 0),
            func.count(),
        ).where(Payment.event_id == event_id, Payment.status == "paid")
    ).one()
    return {"paid_cents": int(row[0]), "refunded_cents": int(row[1]), "payments": int(row[2])}
