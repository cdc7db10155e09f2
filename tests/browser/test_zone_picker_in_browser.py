"""The event form's zone picker in a real chromium: a new event starts in the browser's own
zone, also one the picker does not list by that name; without JavaScript it stays UTC."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_flow import log_in
from tests.builders import make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Calcutta"])
def test_a_new_event_starts_in_the_browsers_zone(open_context, live_server, app, zone):
    page = open_context(timezone_id=zone).new_page()
    log_in(page, make_user("marketer", email="mia@example.com"))
    page.goto("/admin/events/new")
    browser_zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(page.get_by_label("Time zone")).to_have_value(browser_zone)
    chosen = page.get_by_label("Time zone").locator("option:checked")
    assert browser_zone in chosen.inner_text()


def test_without_javascript_a_new_event_stays_in_utc(open_context, live_server, app):
    marketer = make_user("marketer", email="mia@example.com")
    page = open_context(timezone_id="Asia/Tokyo", java_script_enabled=False).new_page()
    log_in(page, marketer)
    page.goto("/admin/events/new")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
    options = page.get_by_label("Time zone").locator("option")
    assert options.first.inner_text() == "(UTC+00:00) Coordinated Universal Time — UTC"
    assert "(UTC+09:00) Tokyo — Asia/Tokyo" in options.all_inner_texts()
