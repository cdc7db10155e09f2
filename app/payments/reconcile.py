"""Reconciling holds whose webhook never came: Stripe is asked, and what it says is settled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from sqlalchemy import func, or_, select

from app.config import stripe_configured
from app.db import db, utcnow, writing
from app.payments import gateway
from app.payments.models import Payment
from app.payments.records import STILL_OPEN
from app.payments.refunds import issue_due_refunds
from app.payments.settlement import settle_checkout
from app.registrations import seats
from app.registrations.models import Registration

log = logging.getLogger(__name__)


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
        if (
            registration is not None
            and registration.status == "pending_payment"
            and not waiting
            and (registration.hold_expires_at or now) <= now
        ):
            # No payment on its way (or none ever started): the seat goes back.
            seats.withdraw(registration, by="payment")
            outcomes.append("hold released")
    return outcomes[-1] if outcomes else "settled already"


def reconcile(
    now: datetime | None = None,
    *,
    progress: Callable[[list[int]], AbstractContextManager[Iterable[int]]] | None = None,
) -> dict[str, int]:
    """Settle every stale hold (the worker's job and `payments reconcile`); counts by outcome.

    `progress` wraps the holds as they are worked through (the CLI passes its progress bar).
    A hold Stripe could not be asked about is left for the next pass.
    """
    now = now or utcnow()
    holds = stale_holds(now)
    counts: dict[str, int] = {}
    with progress(holds) if progress else nullcontext(holds) as each:
        for registration_id in each:
            try:
                outcome = reconcile_hold(registration_id, now)
            except gateway.GatewayError as exc:
                db.session.rollback()
                log.warning("could not reconcile registration %s: %s", registration_id, exc.detail)
                outcome = f"left for later ({exc.message})"
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run_due(now: datetime) -> int:
    """The worker's payments job: stale holds settled, then owed refunds made."""
    if not stripe_configured():
        return 0
    settled = sum(reconcile(now).values())
    return settled + issue_due_refunds(now)
