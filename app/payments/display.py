"""How payments read to people: amounts as "EUR 49.00", and a registration's current payment."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.db import db
from app.payments.models import Payment
from app.registrations.models import Registration

# Stripe's currencies without minor units: the amount is already in whole units.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)


def major_units(cents: int, currency: str) -> Decimal:
    """An amount in minor units (what Stripe and the database hold) in whole units."""
    return Decimal(cents) if currency.upper() in ZERO_DECIMAL else Decimal(cents) / 100


def money(cents: int, currency: str) -> str:
    """An amount in minor units as people read it: "EUR 49.00", "EUR 1,250.00", "JPY 5,000"."""
    code = (currency or "").upper()
    amount = major_units(cents or 0, code)
    return f"{code} {amount:,.0f}" if code in ZERO_DECIMAL else f"{code} {amount:,.2f}"


def current_payment(registration: Registration) -> Payment | None:
    """The latest payment of this registration as it stands now.

    A registration made again after a cancel keeps its row but starts afresh (its created_at
    is the new registration's moment), so payments of its earlier life are not its own.
    """
    return db.session.scalars(
        select(Payment)
        .where(
            Payment.registration_id == registration.id,
            Payment.created_at >= registration.created_at,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    ).first()
