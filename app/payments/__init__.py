"""Paid seats: Stripe Checkout, its webhook, refunds and reconciliation."""

from flask import Blueprint, Flask

bp = Blueprint("payments", __name__)


def init_app(app: Flask) -> None:
    """Hear cancellations (refunds are owed in their transaction) and give the worker its
    payments job: stale holds reconciled with Stripe, owed refunds made."""
    from app.payments import receivers
    from app.payments.services import run_due
    from app.worker import add_job

    receivers.connect()
    app.after_request(receivers.refund_at_the_end_of_the_request)
    add_job(app, "payments", run_due)


from app.payments import routes  # noqa: E402, F401
