"""Where a held seat is paid and what its pages show of the payment: hooks payments fills in.

The payments package provides them from its `init_app`, so registrations never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from app.refusals import Refusal
from app.registrations.models import Registration

_EXTENSION = "registrations.payment_hooks"


class PaymentUnavailable(Refusal):
    """No Checkout could be opened; the hold is released. `message` is for the registrant."""

    status = 503


class PaymentShown(Protocol):
    """What the registrant's pages read of a payment (the templates read more of it)."""

    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class PaymentHooks:
    # Where to send a registrant whose seat is held; raises `PaymentUnavailable`.
    checkout_url: Callable[[int], str]
    # The payment of the registration's present life, if one was started.
    payment_of: Callable[[Registration], PaymentShown | None]


def provide(app: Flask, hooks: PaymentHooks) -> None:
    """Called once by the package that takes payments."""
    app.extensions[_EXTENSION] = hooks


def checkout_url(registration_id: int) -> str:
    """Where to send a registrant to pay for their held seat."""
    hooks: PaymentHooks | None = current_app.extensions.get(_EXTENSION)
    if hooks is None:
        # A paid event in an app built without payments: a mistake in the factory.
        raise RuntimeError("no payments package has provided a checkout")
    return hooks.checkout_url(registration_id)


def payment_of(registration: Registration) -> PaymentShown | None:
    """The payment a registrant's page tells about; None for a free event."""
    hooks: PaymentHooks | None = current_app.extensions.get(_EXTENSION)
    if hooks is None or not registration.event.is_paid:
        return None
    return hooks.payment_of(registration)
