"""Command line for paid seats: `flask --app wsgi payments reconcile`."""

from __future__ import annotations

import click

from app.payments import bp


@click.group(help="Payments for paid events (Stripe).")
def payments() -> None:
    pass


@payments.command("reconcile")
def payments_reconcile() -> None:
    """Ask Stripe about every seat held for payment past its expiry, and settle it."""
    from app.config import stripe_configured
    from app.payments.reconcile import reconcile

    if not stripe_configured():
        raise click.ClickException(
            "Stripe is not configured (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)."
        )
    counts = reconcile(
        progress=lambda holds: click.progressbar(
            holds, label=f"Settling {len(holds)} expired holds"
        )
    )
    if not counts:
        click.echo("No expired holds: nothing to settle.")
    for outcome, count in sorted(counts.items()):
        click.echo(f"  {outcome}: {count}")


bp.cli.add_command(payments)
