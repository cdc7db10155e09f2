"""Locking and reading payment rows: the lock order, the present payment, the console's sums."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.db import db, utcnow
from app.payments.models import Payment
from app.registrations.models import Registration

# A payment in these states may still bring money: the seat it holds is not let go.
STILL_OPEN = ("open", "processing")


def locked_payment(condition: Any) -> Payment | None:
    """The payment matching `condition`, locked after its registration.

    Every transaction that touches both locks the registration first (a cancel updates it,
    then looks for its payment), so two of them never wait on each other in a circle.
    """
    registration_id = db.session.scalar(select(Payment.registration_id).where(condition))
    if registration_id is None:
        return None
    db.session.get(Registration, registration_id, with_for_update=True, populate_existing=True)
    return locked(select(Payment).where(condition))


def locked(statement: Any) -> Payment | None:
    # FOR UPDATE on PostgreSQL; SQLite's write transaction already excludes other writers.
    return db.session.scalars(
        statement.with_for_update().execution_options(populate_existing=True)
    ).first()


def held_by(payment: Payment) -> bool:
    """Whether the registration is still holding its seat for this payment.

    Its callers have just locked and loaded the registration (see `locked_payment`), so it
    is read from the session, not fetched again.
    """
    registration = payment.registration
    return registration.status == "pending_payment" and of_this_life(payment, registration)


def of_this_life(payment: Payment, registration: Registration) -> bool:
    # A registration made again after a cancel keeps its row but starts afresh (its
    # created_at is the new registration's moment): earlier payments are not its own.
    return payment.created_at >= registration.created_at


# --- for the pages and the console ---------------------------------------------------------


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
    """The latest payment of this registration's present life (see `of_this_life`)."""
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
