"""Amounts of money as stored (integer minor units plus an ISO currency) and in whole units."""

from __future__ import annotations

from decimal import Decimal

# Stripe's currencies without minor units: the amount is already in whole units.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)


def major_units(cents: int, currency: str) -> Decimal:
    """An amount in minor units (what Stripe and the database hold) in whole units."""
    return Decimal(cents) if currency.upper() in ZERO_DECIMAL else Decimal(cents) / 100


def plain_amount(cents: int, currency: str) -> str:
    """The amount in whole units as a plain number ("49.00", "5000"), as schema.org wants it."""
    code = (currency or "").upper()
    amount = major_units(cents or 0, code)
    return f"{amount:.0f}" if code in ZERO_DECIMAL else f"{amount:.2f}"
