"""Money going back: refunds owed when a paid seat or its event is cancelled, made, retried."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app import leasing
from app.db import db, rows_changed, utcnow, writing
from app.events.models import Event
from app.mail.outbox import note_draft, queue
from app.payments import gateway, signals
from app.payments.checkout import expire_quietly
from app.payments.models import Payment
from app.payments.records import locked
from app.registrations.models import Registration
from app.worker import wake_after_commit

log = logging.getLogger(__name__)

# Refunds Stripe could not make are tried again this many times, further apart each time.
REFUND_ATTEMPTS = 8


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
    owe_refund(payment, "registrant" if by == "registrant" else "staff", now)


def owe_refunds_for_event(event: Event) -> None:
    """An event was cancelled: everyone who paid gets their money back."""
    now = utcnow()
    owed = rows_changed(
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
    if owed:
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
        expire_quietly(session_id)


def owe_refund(payment: Payment, reason: str, now: datetime) -> None:
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
            error = exc.detail or exc.message
            leasing.persist(_refund_failed, row.id, error, now, what="a refund")
            continue
        # Recorded right after Stripe answered, through a database blip (app.leasing); a
        # refund recorded twice is not (the status check), nor made twice (the idempotency key).
        made += leasing.persist(_record_refund, row.id, refund, now, what="a refund")
    return made


def _record_refund(payment_id: int, refund: gateway.Refund, now: datetime) -> int:
    """Record the refund Stripe made for the payment; 1 when it was made."""
    with writing():
        payment = locked(select(Payment).where(Payment.id == payment_id))
        if payment is None or payment.refund_status != "due":
            return 0
        payment.refund_id = refund.id or payment.refund_id
        payment.refund_attempts += 1
        if refund.status not in ("succeeded", "pending"):
            payment.refund_status = "failed"
            payment.refund_error = f"Stripe answered the refund with status {refund.status}."
            return 0
        # Nothing refunded now means Stripe had refunded it all already.
        refunded = payment.refunded_cents + refund.amount if refund.amount else None
        payment.refunded_cents = min(refunded or payment.amount_cents, payment.amount_cents)
        payment.refund_status = refund.status
        payment.refunded_at = now
        tell_refunded(payment)
        return 1


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
        payment = locked(select(Payment).where(Payment.id == payment_id))
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
        payment = locked(select(Payment).where(Payment.id == payment_id))
        if payment is not None and payment.refund_status == "failed":
            payment.refund_status = "due"
            payment.refund_attempts = 0
            payment.refund_round += 1
            payment.refund_next_attempt_at = utcnow()
            _refunds_owed()


def tell_refunded(payment: Payment) -> None:
    signals.refunded.send(payment)
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
