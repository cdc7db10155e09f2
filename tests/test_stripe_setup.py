"""Stripe counts as configured only with both its secret key and its webhook secret: every
part that asks (publishing a paid event, the worker, `payments reconcile`) reads one rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.db import db, utcnow
from app.events.services import EventRejected, update_event
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.fake_stripe import stripe_settings
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    make_paid_event,
    payment_of,
    register_via_api,
    status_of,
)


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_half_a_stripe_setup_counts_as_none_wherever_it_is_asked(
    app, client, fake_stripe, runner, missing
):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    fake_stripe.pay(payment_of(body["id"]).checkout_session_id)  # no webhook delivered
    db.session.execute(
        update(Registration)
        .where(Registration.id == body["id"])
        .values(hold_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    draft = make_paid_event(slug="paid-draft", status="draft")
    asked = len(fake_stripe.requests)
    app.config[missing] = None

    with pytest.raises(EventRejected) as refused:
        update_event(draft, {"status": "published"})
    assert "until Stripe is configured" in refused.value.fields["price_cents"]
    assert run_due_jobs()["payments"] == 0
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code != 0
    assert "Stripe is not configured" in result.output
    assert len(fake_stripe.requests) == asked
    assert status_of(body["id"]) == "pending_payment"

    # Both halves given again: the worker settles the hold it left alone.
    app.config[missing] = stripe_settings(fake_stripe)[missing]
    assert run_due_jobs()["payments"] == 1
    assert status_of(body["id"]) == "confirmed"
