"""The public path in a real browser: a visitor from a newsletter reserves a spot, on a desktop,
on a phone and without JavaScript; errors show next to their field; the manage page cancels."""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.registrations.models import Registration
from tests.a11y import assert_accessible
from tests.builders import make_event

pytestmark = pytest.mark.browser

NEWSLETTER = "http://news.example.org/spring-issue"
LANDING = "/e/launch-webinar?utm_source=newsletter&utm_medium=email"
PHONE = {"width": 390, "height": 844}


def from_newsletter(page: Page, live_server: str) -> None:
    """Arrive the way a reader does: click the link in a newsletter published elsewhere."""
    link = f'<html lang="en"><body><a href="{live_server}{LANDING}">Reserve your spot</a></body>'
    page.route(NEWSLETTER, lambda route: route.fulfill(content_type="text/html", body=link))
    page.goto(NEWSLETTER)
    page.get_by_role("link", name="Reserve your spot").click()
    page.wait_for_url(f"**{LANDING}")


def fill_in(page: Page, email: str = "ada.lovelace@example.com") -> None:
    page.get_by_label("Work email").fill(email)
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Company").fill("Analytical Engines Ltd")
    page.get_by_label("Job title").fill("Head of Engineering")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("Phone").fill("020 7946 0958")
    page.get_by_label("send me news").check()


def reserve(page: Page) -> None:
    page.get_by_role("button", name="Reserve my spot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're registered")


def the_registration() -> Registration:
    db.session.rollback()  # see what the server committed, not an older snapshot
    return db.session.scalars(select(Registration)).one()


def screenshot(page: Page, path: Path) -> tuple[int, int]:
    """Save a full-page PNG and return its size in pixels, after checking it is a real image."""
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    # A blank page of this size compresses to a few kilobytes; text and a form do not.
    assert len(data) > 20_000, f"{path} is only {len(data)} bytes"
    return width, height


def no_horizontal_scroll(page: Page) -> None:
    # A mobile browser widens its layout viewport to fit content that overflows, so the page is
    # measured against the device's width, not only against innerWidth.
    device_width = page.viewport_size["width"]
    # Measured once the stylesheet has applied: on a busy machine the heading can be in the DOM
    # before the page's CSS has loaded, and an unstyled page is as wide as its longest link.
    page.wait_for_load_state("load")
    scroll_width, inner_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert max(scroll_width, inner_width) <= device_width, (
        f"{page.url} scrolls sideways: content {scroll_width}px, layout {inner_width}px, "
        f"screen {device_width}px"
    )


def test_visitor_from_a_newsletter_reserves_a_spot(page, live_server, app, tmp_path):
    event = make_event(capacity=40)
    from_newsletter(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
    fill_in(page)
    reserve(page)
    manage_link = page.locator("a.manage-link")
    expect(manage_link).to_contain_text(f"{live_server}/r/")
    width, height = screenshot(page, tmp_path / "thanks.png")
    assert width == page.viewport_size["width"] and height >= page.viewport_size["height"]

    registration = the_registration()
    assert registration.status == "confirmed"
    assert (registration.utm_source, registration.utm_medium) == ("newsletter", "email")
    # A link from another site carries only that site's origin (the browser's default policy).
    assert registration.referrer == "http://news.example.org/"
    assert registration.phone == "+442079460958"
    assert registration.country == "GB"
    assert registration.consent_marketing is True
    assert db.session.get(Event, event.id).seats_taken == 1

    manage_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
    expect(page.locator(".status")).to_have_text("Confirmed")


def test_a_phone_visitor_reserves_without_scrolling_sideways(
    open_context, live_server, app, tmp_path
):
    make_event(capacity=40, title="Spring launch: what is new in the analytics platform")
    page = open_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(LANDING)
    no_horizontal_scroll(page)
    width, _height = screenshot(page, tmp_path / "landing-phone.png")
    assert width == PHONE["width"]

    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("button", name="Reserve my spot").click()
    expect(page.locator("#email-error")).to_be_visible()
    no_horizontal_scroll(page)

    fill_in(page, email="firstname.lastname.department@subsidiary.example-corporation.com")
    reserve(page)
    no_horizontal_scroll(page)
    assert screenshot(page, tmp_path / "thanks-phone.png")[0] == PHONE["width"]
    page.locator("a.manage-link").click()
    expect(page.locator(".status")).to_have_text("Confirmed")
    no_horizontal_scroll(page)
    assert the_registration().utm_source == "newsletter"


def test_the_form_works_with_javascript_switched_off(open_context, live_server, app):
    make_event()
    page = open_context(java_script_enabled=False, timezone_id="Asia/Tokyo").new_page()
    page.goto(LANDING)
    fill_in(page)
    reserve(page)
    page.locator("a.manage-link").click()
    expect(page.locator(".status")).to_have_text("Confirmed")
    # Without the script the visitor's-zone line simply stays out of the way.
    page.goto(LANDING)
    expect(page.locator("[data-visitor-time]")).to_be_hidden()
    registration = the_registration()
    assert registration.status == "confirmed"
    assert registration.utm_source == "newsletter"


def test_a_bad_email_is_shown_next_to_the_email_field(page, live_server, app):
    make_event()
    page.goto(LANDING)
    fill_in(page, email="ada.lovelace@example")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Reserve my spot").click()
    assert answer.value.status == 422
    email = page.get_by_label("Work email")
    expect(email).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field:has(#email) .error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The part after the @-sign is not valid")
    # The message sits in the field's own container and is what the input is described by.
    same_field = email.evaluate(
        "input => input.closest('.field') === document.getElementById("
        "input.getAttribute('aria-describedby')).closest('.field')"
    )
    assert same_field is True
    assert page.locator(".field .error").count() == 1
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    # Nothing the visitor typed is lost.
    expect(page.get_by_label("First name")).to_have_value("Ada")
    expect(email).to_have_value("ada.lovelace@example")
    assert_accessible(page)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0

    email.fill("ada.lovelace@example.com")
    reserve(page)


def test_visitors_in_another_zone_also_see_their_own_time(open_context, live_server, app):
    event = make_event()  # in Europe/Berlin
    page = open_context(timezone_id="Asia/Tokyo").new_page()
    page.goto(LANDING)
    visitor_time = page.locator("[data-visitor-time]")
    expect(visitor_time).to_be_visible()
    tokyo = event.starts_at.astimezone(ZoneInfo("Asia/Tokyo"))
    expect(visitor_time).to_contain_text(tokyo.strftime("%H:%M"))
    expect(visitor_time).to_contain_text("your time")
    berlin = event.starts_at.astimezone(event.zone)
    expect(page.locator("time[data-local-time]")).to_contain_text(berlin.strftime("%H:%M"))


def test_visitors_in_the_events_zone_see_one_time_only(open_context, live_server, app):
    make_event()
    page = open_context(timezone_id="Europe/Berlin").new_page()
    page.goto(LANDING)  # returns after the load event, so the deferred script has run
    expect(page.locator("[data-visitor-time]")).to_be_hidden()
    assert page.locator("[data-visitor-time]").inner_text() == ""


def test_cancelling_from_the_manage_page_asks_first_then_cancels(page, live_server, app):
    event = make_event(capacity=10)
    page.goto(LANDING)
    fill_in(page)
    reserve(page)
    page.locator("a.manage-link").click()
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    assert the_registration().status == "confirmed"  # asking changed nothing
    page.get_by_role("button", name="Yes, cancel my registration").click()
    expect(page.get_by_role("status")).to_have_text("Your registration has been cancelled.")
    expect(page.locator(".status")).to_have_text("Cancelled")
    expect(page.get_by_role("link", name="Cancel my registration")).to_have_count(0)
    assert the_registration().status == "cancelled"
    assert db.session.get(Event, event.id).seats_taken == 0


def test_public_pages_pass_the_accessibility_check(page, live_server, app):
    make_event()
    make_event(
        slug="later-webinar", starts_at=(utcnow() + timedelta(days=9)).replace(microsecond=0)
    )
    page.goto("/")
    assert_accessible(page)
    page.goto(LANDING)
    assert_accessible(page)
    fill_in(page)
    reserve(page)
    assert_accessible(page)
    page.locator("a.manage-link").click()
    expect(page.locator(".status")).to_have_text("Confirmed")
    assert_accessible(page)
    page.get_by_role("link", name="Cancel my registration").click()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel my registration").click()
    expect(page.locator(".status")).to_have_text("Cancelled")
    assert_accessible(page)
    page.goto("/r/not-a-real-link")
    assert_accessible(page)
