"""How payments read to people: amounts as "EUR 49.00"."""

from __future__ import annotations

from app.money import ZERO_DECIMAL, major_units

__all__ = ["ZERO_DECIMAL", "major_units", "money"]


def money(cents: int, currency: str) -> str:
    """An amount in minor units as people read it: "EUR 49.00", "EUR 1,250.00", "JPY 5,000"."""
    code = (currency or "").upper()
    amount = major_units(cents or 0, code)
    return f"{code} {amount:,.0f}" if code in ZERO_DECIMAL else f"{code} {amount:,.2f}"
