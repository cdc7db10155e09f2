"""How payments read to people: amounts as "EUR 49.00"."""

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


def money(cents: int, currency: str) -> str:
    """An amount in minor units as people read it: "EUR 49.00", "EUR 1,250.00", "JPY 5,000"."""
    code = (currency or "").upper()
    amount = major_units(cents or 0, code)
    return f"{code} {amount:,.0f}" if code in ZERO_DECIMAL else f"{code} {amount:,.2f}"
