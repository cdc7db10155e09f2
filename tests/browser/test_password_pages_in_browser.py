"""Forgot password in a real chromium: from the login page to the emailed link to a new
password and a logged-in console, every page passing the accessibility check on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth import passwords
from app.db import db
from tests.a11y import assert_accessible
from tests.builders import make_user
from tests.test_password_links import letters, link_in

pytestmark = pytest.mark.browser


def test_a_marketer_who_forgot_their_password_sets_a_new_one(open_context, live_server, app):
    make_user("marketer", email="mia@example.com")
    page = open_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    assert_accessible(page)
    page.get_by_label("Email").fill("mia@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)

    db.session.rollback()  # read what the server committed
    (letter,) = letters(passwords.RESET)
    page.goto(link_in(letter))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    assert_accessible(page)
    page.get_by_label("New password").fill("a fresh secret")
    page.get_by_label("The same password again").fill("a fresh secret")
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Events")
    expect(page.get_by_text("Your password is set")).to_be_visible()
