"""The rep's morning on a phone and a desktop, in a real chromium: the follow-up list (cards on
a phone), a follow-up's page with "save and next", and the digest email, none scrolling
sideways and none with text under 12 px. Screenshots are kept as test artefacts."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.mail.models import OutboxMessage
from tests.browser.screens import PHONE, WIDTHS, assert_fits_and_reads
from tests.browser.test_console_flow import log_in
from tests.followup_fixtures import followup_of
from tests.test_followup_list import two_reps_with_leads

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_reps_list_and_followup_page_fit_the_screen(
    open_context, live_server, app, event, tmp_path: Path, width: str
):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    hot.lead.phone = "+1 555 010 0200"
    hot.lead.company = "Hot Firm International Holdings and Subsidiaries"
    db.session.commit()
    phone = width == "phone"
    options = {"is_mobile": True, "has_touch": True} if phone else {}
    page = open_context(viewport=WIDTHS[width], **options).new_page()
    log_in(page, rita)

    page.goto("/followups")
    expect(page.get_by_role("heading", level=1)).to_have_text("My follow-ups")
    assert_fits_and_reads(page, f"followups-{width}", tmp_path)
    card = page.locator(f'[data-followup="{hot.id}"]')
    name = card.get_by_role("link", name="Hanna Hot", exact=True)
    # The name is one line wide enough to read, never broken letter by letter.
    assert name.bounding_box()["width"] > 60
    assert card.get_by_role("link", name="Call Hanna Hot").get_attribute("href") == (
        "tel:+15550100200"
    )
    if phone:
        assert card.evaluate("row => getComputedStyle(row).display") == "grid"
        expect(page.locator("table.followups thead")).not_to_be_in_viewport()
    else:
        assert card.evaluate("row => getComputedStyle(row).display") == "table-row"

    name.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hanna Hot")
    assert_fits_and_reads(page, f"followup-{width}", tmp_path)
    # Each label sits on the row (desktop) or right above (phone) of its own value.
    label = page.locator(".pairs dt", has_text="Company").first
    value = label.locator("xpath=following-sibling::dd[1]")
    expect(value).to_have_text("Hot Firm International Holdings and Subsidiaries")
    label_box, value_box = label.bounding_box(), value.bounding_box()
    if phone:
        assert 0 <= value_box["y"] - (label_box["y"] + label_box["height"]) < 8
    else:
        assert abs(label_box["y"] - value_box["y"]) < 6 and value_box["x"] > label_box["x"]

    page.get_by_role("combobox", name="Status", exact=True).select_option("contacted")
    page.get_by_role("textbox", name="Note", exact=True).fill("Called, back on Monday")
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Walt")
    page.go_back()
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("Called, back on Monday")


def test_the_digest_reads_on_a_phone(app, browser, event, tmp_path: Path):
    rita, _emil = two_reps_with_leads(event)
    row = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "followup_digest", OutboxMessage.recipient.contains(rita.email)
        )
    )
    message = message_from_bytes(row.content or b"", policy=policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_content(html)
    assert_fits_and_reads(page, "digest-phone", tmp_path)
    link = page.get_by_role("link", name="Hanna Hot")
    assert link.get_attribute("href").endswith(f"/followups/{followup_of('hot@firm.example').id}")
    context.close()


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_person_page_fits_the_screen(
    open_context, live_server, app, event, tmp_path: Path, width: str
):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    options = {"is_mobile": True, "has_touch": True} if width == "phone" else {}
    page = open_context(viewport=WIDTHS[width], **options).new_page()
    log_in(page, rita)
    page.goto(f"/followups/{hot.id}")
    page.get_by_role("link", name="Everything about this person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hanna Hot")
    expect(page.get_by_role("heading", name="Registrations and attendance (1)")).to_be_visible()
    assert_fits_and_reads(page, f"person-{width}", tmp_path)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Leads").click()
    page.get_by_label("Name, email or company").fill("hanna")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Hanna Hot")).to_be_visible()
    assert_fits_and_reads(page, f"leads-{width}", tmp_path)
