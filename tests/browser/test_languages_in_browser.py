"""An event offered in English and German, in a real browser: a browser set to German opens the
German page, its switcher turns it English and back (keeping the newsletter's parameters),
and the registration made on the German page is German; both pages pass the accessibility
check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.registrations.models import Registration
from tests.a11y import assert_accessible
from tests.builders import make_event

pytestmark = pytest.mark.browser


def test_a_german_browser_reads_german_switches_to_english_and_registers_in_german(
    open_context: Callable[..., Any],
) -> None:
    make_event(slug="tour", title="Tour", other_languages=["de"])
    page = open_context(locale="de-DE").new_page()
    page.goto("/e/tour?utm_source=newsletter")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Meinen Platz reservieren")).to_be_visible()
    assert_accessible(page)

    switcher = page.get_by_role("navigation", name="Sprachen")
    switcher.get_by_role("link", name="English").click()
    page.wait_for_url("**/e/tour?utm_source=newsletter&lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Reserve my spot")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Languages").get_by_role("link", name="Deutsch").click()
    page.wait_for_url("**/e/tour?utm_source=newsletter&lang=de")
    page.get_by_label("Geschäftliche E-Mail").fill("ada@example.com")
    page.get_by_label("Vorname").fill("Ada")
    page.get_by_role("button", name="Meinen Platz reservieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind angemeldet")

    db.session.rollback()  # see what the server committed
    registration = db.session.scalars(select(Registration)).one()
    assert (registration.language, registration.utm_source) == ("de", "newsletter")
