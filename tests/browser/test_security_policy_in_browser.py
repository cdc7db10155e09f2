"""The content security policy in a real chromium: the landing, manage, console and report pages
load without one violation, and their scripts (local-time.js, admin.js) still do their work."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.registrations.links import manage_token
from tests.builders import make_event, make_user, register_person

pytestmark = pytest.mark.browser

# Runs before any page script, outside the page's policy: it records what the policy blocks.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def watched(open_context, **options) -> tuple[Page, list[str]]:  # type: ignore[no-untyped-def]
    """A page in a visitor's zone, and the list its CSP complaints in the console go to."""
    context = open_context(timezone_id="America/New_York", **options)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return page, complaints


def assert_no_violation(page: Page, complaints: list[str]) -> None:
    assert page.evaluate("window.__violations") == [], page.url
    assert complaints == [], page.url


def test_public_and_manage_pages_run_their_script_under_the_policy(open_context, app):
    event = make_event(slug="launch-webinar", timezone="Europe/Berlin")
    token = manage_token(register_person(event, "ada@example.com"))
    page, complaints = watched(open_context)

    response = page.goto("/e/launch-webinar")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # local-time.js shows the start in the visitor's own zone beside the event's.
    expect(page.locator("[data-visitor-time]")).to_be_visible()
    expect(page.locator("[data-visitor-time]")).to_contain_text("your time")
    assert_no_violation(page, complaints)

    for path in (f"/r/{token}", f"/r/{token}/thanks"):
        response = page.goto(path)
        assert response.headers["referrer-policy"] == "no-referrer"
        # Here the script puts the visitor's reading in the time's title.
        title = page.locator("time[data-local-time]").first.get_attribute("title") or ""
        assert "your time" in title, path
        assert_no_violation(page, complaints)

    page.goto("/")
    assert_no_violation(page, complaints)


def test_console_and_report_pages_run_their_script_under_the_policy(open_context, app):
    event = make_event(slug="launch-webinar", capacity=1)
    register_person(event, "seated@example.com")
    register_person(event, "waiting@example.com")
    marketer = make_user("marketer")
    page, complaints = watched(open_context)

    page.goto("/login")
    assert_no_violation(page, complaints)
    page.get_by_label("Email").fill(marketer.email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Events")
    assert_no_violation(page, complaints)

    # admin.js: the new event's zone starts on the browser's own.
    page.goto("/admin/events/new")
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    assert_no_violation(page, complaints)

    # admin.js: cancelling a registration asks first; dismissing keeps the seat.
    page.goto("/admin/events/launch-webinar/registrations")
    row = page.get_by_role("row").filter(has_text="seated@example.com")
    asked: list[str] = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("confirmed")
    assert asked and "seated@example.com" in asked[0]
    assert_no_violation(page, complaints)

    for path in ("/admin/reports", "/admin/events/launch-webinar/report"):
        response = page.goto(path)
        assert response.ok, path
        assert response.headers["cache-control"] == "no-store"
        assert_no_violation(page, complaints)
    # The charts are drawn, styled from the stylesheet alone.
    expect(page.locator("svg").first).to_be_visible()
