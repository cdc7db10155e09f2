"""Paid seats: Stripe Checkout, its webhook, refunds and reconciliation.

The rules: money is never kept without a seat, a seat is never given without money, and the
buyer's browser coming back proves nothing. Only Stripe's word (a signed webhook, or its
answer when reconciliation asks) settles a payment. Calls to Stripe happen outside write
transactions; what they lead to is written in one transaction, under a lock on the payment,
so deliveries of the same news that race each other settle it once.

`checkout.py` opens Checkout for a held seat, `settlement.py` acts on what Stripe reports,
`refunds.py` gives money back, `reconcile.py` asks Stripe about holds whose news never came,
`records.py` locks and reads payment rows; `gateway.py` alone talks to Stripe.
"""

from flask import Blueprint, Flask

# cli_group=None: the package's command groups (cli.py) sit at the top level, `flask payments …`.
bp = Blueprint("payments", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    """Take the payments of held seats and show them on the registrant's pages, hear
    cancellations (refunds are owed in their transaction) and give the worker its payments
    job: stale holds reconciled with Stripe, owed refunds made; and give privacy a person's
    payments to export."""
    from app.payments import privacy, receivers
    from app.payments.checkout import checkout_url
    from app.payments.reconcile import run_due
    from app.payments.records import current_payment
    from app.privacy.registry import add_exporter
    from app.registrations import payment_hooks
    from app.worker import add_job

    payment_hooks.provide(
        app, payment_hooks.PaymentHooks(checkout_url=checkout_url, payment_of=current_payment)
    )
    receivers.connect()
    app.after_request(receivers.refund_at_the_end_of_the_request)
    add_job(app, "payments", run_due)
    add_exporter(app, "payments", privacy.export)


from app.payments import cli, routes  # noqa: E402, F401
