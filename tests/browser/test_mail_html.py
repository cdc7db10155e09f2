"""The HTML of every kind of email, opened in a real chromium: readable on a phone (no
sideways scrolling), the right heading, working links, and the accessibility basics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from app.auth import passwords
from app.db import db, utcnow
from app.events.services import cancel_event, update_event
from app.followup.models import CompanyOwner
from app.mail.models import KINDS, OutboxMessage
from app.payments.checkout import checkout_url
from app.registrations import approval, replay, services
from app.registrations.links import manage_url
from app.worker import run_due_jobs
from tests.a11y import assert_accessible
from tests.builders import csrf_token, make_event, make_user, register_person, registrant
from tests.fake_stripe import WEBHOOK_SECRET, FakeStripe, stripe_settings
from tests.followup_fixtures import attend, make_rep

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, fake_stripe: FakeStripe):  # type: ignore[no-untyped-def]
    return app_config | stripe_settings(fake_stripe)


def paid_messages(client, fake_stripe: FakeStripe) -> None:  # type: ignore[no-untyped-def]
    """Dee pays, then cancels (her refund); Eve, waiting, is asked to pay for the seat."""
    event = make_event(slug="paid-masterclass", capacity=1, price_cents=12900, currency="EUR")
    dee = register_person(event, "dee@example.com", first_name="Dee")
    checkout_url(dee.id)
    session_id = next(iter(fake_stripe.sessions))
    fake_stripe.deliver(client, fake_stripe.pay(session_id), WEBHOOK_SECRET)
    register_person(event, "eve@example.com", first_name="Eve")
    services.cancel(dee.id)


def after_the_event() -> None:
    """Two webinars of two days ago with a recording: Jo came and Kim did not (thanked and
    missed), and of the one no attendance came for, Lu is sent the recording; Mo registers
    afterwards to watch the replay and is sent his link to it."""
    starts = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    reported = make_event(slug="spring-recap", starts_at=starts)
    unreported = make_event(slug="partner-recap", starts_at=starts)
    for event in (reported, unreported):
        event.recording_url = "https://videos.example.com/watch/launch-webinar-recording"
    db.session.commit()
    register_person(reported, "jo@example.com", first_name="Jo")
    register_person(reported, "kim@example.com", first_name="Kim")
    register_person(unreported, "lu@example.com", first_name="Lu")
    attend(reported, {"jo@example.com": 40})
    replay.register_for_replay(reported.id, registrant("mo@example.com", first_name="Mo"))


def every_kind_of_message(client, fake_stripe: FakeStripe) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """One message of each kind, made the way users cause them."""
    event = make_event(
        capacity=1,
        title="Quarterly product update: what's new in reporting, routing and the API",
        location="Hall B, Rue de la Loi 42, Brussels",
        join_url="https://meet.example.com/j/8f3a9c2b7d1e4f60a5b9c8d7e6f5a4b3?pwd=averylongpasscode",
    )
    ada = register_person(event, "ada@example.com", first_name="Ada")
    register_person(event, "bob@example.com", first_name="Bob")
    services.cancel(ada.id)  # Ada's cancellation, Bob's promotion
    register_person(event, "cy@example.com", first_name="Cy")  # waitlisted
    update_event(event, {"starts_at": event.starts_at - timedelta(days=2, hours=22, minutes=30)})
    run_due_jobs(now=event.starts_at - timedelta(minutes=20))  # Bob's reminder
    # Someone types Cy's address on the form again: Cy is mailed the link to her registration.
    services.register_publicly(event.id, registrant("cy@example.com", first_name="X"))
    cancel_event(event)
    paid_messages(client, fake_stripe)
    register_person(
        make_event(slug="open-house", double_opt_in=True), "fay@example.com", first_name="Fay"
    )
    approved = make_event(slug="round-table", requires_approval=True)
    register_person(approved, "gus@example.com", first_name="Gus")  # "we'll confirm shortly"
    approval.decline(register_person(approved, "hal@example.com", first_name="Hal").id)
    # Ivy asks, from her manage page, for her data to be erased: the confirming link is emailed.
    ivy = register_person(make_event(slug="data-day"), "ivy@example.com", first_name="Ivy")
    erase_page = urlsplit(manage_url(ivy)).path + "/erase"
    step = client.get(erase_page)
    assert client.post(erase_page, data={"csrf_token": csrf_token(step.text)}).status_code == 200
    after_the_event()
    run_due_jobs()
    found: dict[str, bytes] = {}
    for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        found.setdefault(row.kind, row.content or b"")
    return found


def opened(browser, content: bytes, kind: str) -> Iterator[tuple[int, Page]]:  # type: ignore[no-untyped-def]
    """The message's HTML open on a phone, then a desktop: checked for sideways scrolling, a
    heading and the accessibility basics; yields (width, page) for the caller's own checks."""
    message = message_from_bytes(content, policy=policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    for width in (360, 1024):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.set_content(html)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{kind} scrolls sideways by {overflow}px at {width}px wide"
        heading = page.locator("h1")
        assert heading.is_visible()
        assert heading.inner_text().strip(), f"{kind} has an empty heading"
        assert_accessible(page)
        yield width, page
        context.close()


def test_every_kind_of_email_reads_well_in_a_browser_on_a_phone_and_a_desktop(
    app, client, browser, tmp_path, fake_stripe
):
    messages = every_kind_of_message(client, fake_stripe)
    assert sorted(messages) == sorted(KINDS)
    for kind, content in messages.items():
        for width, page in opened(browser, content, kind):
            manage = page.locator('a[href^="http://testserver/r/"]')
            assert manage.count() >= 1, f"{kind} has no link to the registration"
            assert manage.first.is_visible()
            joins = page.get_by_role("link", name="Join the event")
            if kind in ("confirmation", "promoted", "update", "reminder"):
                assert joins.is_visible(), f"{kind} shows no join button"
                assert joins.get_attribute("href").startswith("https://meet.example.com/j/")
            else:
                assert joins.count() == 0, f"{kind} shows a join button"
            page.screenshot(path=str(tmp_path / f"{kind}-{width}.png"), full_page=True)


def staff_letters(client) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The letters that carry a set-your-password link: an invitation, a "forgot password"."""
    passwords.queue_invitation(make_user("rep", email="rae@example.com"))
    db.session.commit()
    page = client.get("/password/forgot")
    client.post(
        "/password/forgot", data={"csrf_token": csrf_token(page.text), "email": "rae@example.com"}
    )
    kinds = (passwords.INVITATION, passwords.RESET)
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(kinds)))
    return {row.kind: row.content or b"" for row in rows}


def test_staff_password_letters_read_well_on_a_phone_and_a_desktop(app, client, browser, tmp_path):
    messages = staff_letters(client)
    assert sorted(messages) == sorted((passwords.INVITATION, passwords.RESET))
    for kind, content in messages.items():
        for width, page in opened(browser, content, kind):
            button = page.get_by_role("link", name=re.compile("Set (your|a new) password"))
            assert button.is_visible(), f"{kind} shows no set-password button"
            assert button.get_attribute("href").startswith("http://testserver/password/set/")
            page.screenshot(path=str(tmp_path / f"{kind}-{width}.png"), full_page=True)


def test_a_reps_hot_registrant_alert_reads_well_on_a_phone_and_a_desktop(app, browser, tmp_path):
    """A letter to staff, not to a registrant: it links to the rep's follow-up list."""
    ana = make_rep("ana@example.com", name="Ana")
    db.session.add(CompanyOwner(domain="analytical-engines.example", rep_id=ana.id))
    db.session.commit()
    event = make_event(title="Quarterly product update: what's new in reporting and routing")
    register_person(
        event,
        "ada.lovelace-byron@analytical-engines.example",
        first_name="Ada",
        company="Analytical Engines",
        job_title="Head of operations research and computing",
        answers={"what_should_we_cover": "A rather long answer " * 12},
    )
    run_due_jobs()
    (row,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "registrant_alert")
    )
    for width, page in opened(browser, row.content or b"", "registrant_alert"):
        assert page.locator("h1").inner_text().startswith("Registered just now: Ada")
        assert page.get_by_role("link", name="Open the follow-up list").is_visible()
        page.screenshot(path=str(tmp_path / f"registrant_alert-{width}.png"), full_page=True)
