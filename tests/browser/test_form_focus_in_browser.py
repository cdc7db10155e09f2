"""After a failed submit the landing form opens with the keyboard focus on the first field to
correct, in a real chromium, with JavaScript on and off (the focus comes from the server's
`autofocus`, not from a script the CSP would have to allow)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.builders import make_event

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False])
def test_focus_lands_on_the_first_field_in_error(
    app, open_context: Callable[..., BrowserContext], javascript: bool
):
    make_event(slug="launch-webinar")
    page = open_context(java_script_enabled=javascript).new_page()
    page.goto("/e/launch-webinar")
    page.get_by_label("Work email").fill("ada@example.com")
    page.get_by_label("Phone").fill("12")  # first name is missing too, and comes first

    page.get_by_role("button", name="Reserve my spot").click()

    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()
    expect(page.get_by_label("First name")).to_be_focused()
    assert "(required)" in page.get_by_text("First name").first.inner_text()
