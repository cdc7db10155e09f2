"""What payments hold about a person (each payment for their seats) for an export. Erasure
leaves payments as they are: they hold no name or address, only amounts and Stripe's
references, which the accounts must keep; and erasing refunds nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import db
from app.payments.models import Payment
from app.privacy.people import iso
from app.privacy.registry import Person


def export(person: Person) -> dict[str, Any]:
    if not person.registration_ids:
        return {"payments": []}
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.registration_id.in_(person.registration_ids))
        .order_by(Payment.id)
    )
    return {
        "payments": [
            {
                "id": payment.id,
                "registration_id": payment.registration_id,
                "amount_cents": payment.amount_cents,
                "currency": payment.currency,
                "status": payment.status,
                "paid_at": iso(payment.paid_at) if payment.paid_at else None,
                "refund_status": payment.refund_status,
                "refunded_cents": payment.refunded_cents,
                "refunded_at": iso(payment.refunded_at) if payment.refunded_at else None,
                "checkout_session_id": payment.checkout_session_id,
                "payment_intent_id": payment.payment_intent_id,
                "created_at": iso(payment.created_at),
            }
            for payment in payments
        ]
    }
