"""A paid seat in a real browser: reserve, pay on (fake) Stripe's page, come back to a page
that waits for Stripe's word, and see the seat confirmed once the signed webhook arrives."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.registrations.models import Registration
from tests.builders import make_event
from tests.fake_stripe import WEBHOOK_SECRET, FakeStripe, stripe_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_stripe: FakeStripe) -> dict[str, Any]:
    return app_config | stripe_settings(fake_stripe)


def reserve_paid_seat(page: Page) -> None:
    page.goto("/e/paid-workshop")
    page.get_by_label("Work email").fill("ada@example.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_role("button", name="Reserve my spot").click()
    expect(page).to_have_title("Fake Stripe Checkout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay EUR 49.00")


def the_registration() -> Registration:
    db.session.rollback()  # see what the server committed
    return db.session.scalars(select(Registration)).one()


def test_return_page_waits_for_stripe_then_shows_the_seat_confirmed(
    page: Page, live_server: str, fake_stripe: FakeStripe
):
    make_event(slug="paid-workshop", title="Paid workshop", price_cents=4900, currency="EUR")
    reserve_paid_seat(page)
    # The buyer pays; Stripe's webhook is late, so the return page must not claim the seat.
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_text("Payment processing")).to_be_visible()
    assert "paid=1" in page.url
    assert the_registration().status == "pending_payment"

    session = next(iter(fake_stripe.sessions))
    completed = [e for e in fake_stripe.events if e["data"]["object"]["id"] == session][-1]
    status, _ = fake_stripe.deliver(live_server, completed, WEBHOOK_SECRET)
    assert status == 200
    # The page refreshes itself (no JavaScript needed) and now shows the confirmed seat.
    expect(page.get_by_text("Payment received")).to_be_visible(timeout=15_000)
    assert the_registration().status == "confirmed"


def test_webhook_arriving_first_confirms_before_the_buyer_is_back(
    page: Page, live_server: str, fake_stripe: FakeStripe
):
    make_event(slug="paid-workshop", title="Paid workshop", price_cents=4900, currency="EUR")
    fake_stripe.webhook_target = live_server
    fake_stripe.webhook_secret = WEBHOOK_SECRET
    reserve_paid_seat(page)
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_text("Payment received")).to_be_visible()
    assert [status for _, status in fake_stripe.deliveries] == [200]
    assert the_registration().status == "confirmed"


def test_leaving_stripe_keeps_the_seat_held_with_a_way_back_to_pay(
    page: Page, live_server: str, fake_stripe: FakeStripe
):
    make_event(slug="paid-workshop", title="Paid workshop", price_cents=4900, currency="EUR")
    reserve_paid_seat(page)
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_text("You left the payment page")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    expect(page).to_have_title("Fake Stripe Checkout")
    # The same Checkout Session, not a second one.
    assert len(fake_stripe.sessions) == 1
