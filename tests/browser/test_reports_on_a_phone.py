"""Reports on a phone, in a real chromium at 390 px: the page never scrolls sideways (wide
tables scroll inside their own box), and every chart's text is drawn at least 12 px high; the
same pages on a desktop keep their wide charts. Screenshots are kept as test artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.events.models import Campaign
from tests.a11y import assert_accessible
from tests.browser.test_console_flow import log_in
from tests.builders import make_user
from tests.test_reports_figures import build_spring

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# The height a chart's text is drawn at: its font size scaled by the drawing's viewBox.
CHART_TEXT_SIZES = """
() => [...document.querySelectorAll("svg.chart text")]
  .filter((text) => text.getClientRects().length > 0)
  .map((text) => {
    const m = text.getScreenCTM();
    const scale = Math.hypot(m.a, m.b);
    return [text.textContent, parseFloat(getComputedStyle(text).fontSize) * scale];
  })
"""


def report_pages() -> list[str]:
    campaign = db.session.scalar(db.select(Campaign.id).where(Campaign.name == "Spring launch"))
    return [
        "/admin/reports",
        "/admin/events/launch-webinar/report",
        f"/admin/reports/campaigns/{campaign}",
        "/admin/feedback",
    ]


def assert_fits(page: Page, path: str) -> None:
    page.wait_for_load_state("load")
    scroll_width, inner_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    width = page.viewport_size["width"]
    assert max(scroll_width, inner_width) <= width, f"{path} scrolls sideways ({scroll_width}px)"


def test_reports_fit_a_phone_with_readable_charts_and_tables_scrolling_in_their_box(
    open_context, live_server, app, tmp_path: Path
):
    build_spring()
    marketer = make_user("marketer", email="mia@example.com")
    page = open_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(page, marketer)
    drawn = 0
    for path in report_pages():
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_fits(page, path)
        sizes = page.evaluate(CHART_TEXT_SIZES)
        small = [(text, round(size, 1)) for text, size in sizes if size < 12]
        assert not small, f"{path}: chart text under 12px: {small}"
        drawn += len(sizes)
        for overflow in page.eval_on_selector_all(
            "table.data", "tables => tables.map(t => getComputedStyle(t.parentElement).overflowX)"
        ):
            assert overflow == "auto", f"{path}: a table outside a scrolling box"
        assert_accessible(page)
        page.screenshot(path=str(tmp_path / f"phone{path.replace('/', '-')}.png"), full_page=True)
    assert drawn > 20  # the event and campaign reports' charts were measured, not skipped
    # The report links on to lead quality and the CRM exports, which also fit.
    page.goto("/admin/reports")
    expect(page.get_by_role("link", name="Export for HubSpot")).to_be_visible()
    page.get_by_role("link", name="Lead quality").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lead quality")


def test_a_desktop_keeps_the_wide_charts(open_context, live_server, app, tmp_path: Path):
    build_spring()
    page = open_context(viewport=DESKTOP).new_page()
    log_in(page, make_user("marketer", email="mia@example.com"))
    page.goto("/admin/events/launch-webinar/report")
    expect(page.locator(".chart-wide svg").first).to_be_visible()
    expect(page.locator(".chart-narrow svg").first).to_be_hidden()
    sizes = page.evaluate(CHART_TEXT_SIZES)
    assert sizes and min(size for _, size in sizes) >= 12
    assert_fits(page, "report")
    page.screenshot(path=str(tmp_path / "desktop-report.png"), full_page=True)
