"""Paid seats: Stripe Checkout, its webhook, refunds and reconciliation."""

from flask import Blueprint, Flask

bp = Blueprint("payments", __name__)


def init_app(app: Flask) -> None:
    """Take the payments of held seats and show them on the registrant's pages, hear
    cancellations (refunds are owed in their transaction) and give the worker its payments
    job: stale holds reconciled with Stripe, owed refunds made."""
    from app.worker import add_job
    from app.payments import receivers
    from app.payments.services import checkout_url, current_payment, run_due
    from app.registrations import payment_hooks

    payment_hooks.provide(
        app, payment_hooks.PaymentHooks(checkout_url=checkout_url, payment_of=current_payment)
    )
    receivers.connect()
    app.after_request(receivers.refund_at_the_end_of_the_request)
    add_job(app, "payments", run_due)


from app.payments import routes  # noqa: E402, F401
