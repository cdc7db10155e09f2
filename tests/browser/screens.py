"""Checks every screen test makes in a real chromium: no sideways scrolling and readable text."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}

# Font sizes of the elements that draw text themselves, skipping what only screen readers
# hear (the 1px visually-hidden boxes).
TEXT_SIZES = """
() => [...document.body.querySelectorAll("*")]
  .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .filter((el) => {
    const box = el.getBoundingClientRect();
    return el.getClientRects().length > 0 && box.width > 1 && box.height > 1;
  })
  .map((el) => [el.tagName + " " + el.textContent.trim().slice(0, 40),
                parseFloat(getComputedStyle(el).fontSize)])
"""


def assert_fits_and_reads(page: Page, name: str, artefacts: Path) -> None:
    """The page does not scroll sideways, no text is drawn under 12 px; a screenshot is kept."""
    page.wait_for_load_state("load")
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{name} scrolls sideways ({scroll_width}px)"
    sizes = page.evaluate(TEXT_SIZES)
    assert sizes, f"{name} shows no text"
    small = [(text, size) for text, size in sizes if size < 12]
    assert not small, f"{name}: text under 12px: {small[:5]}"
    page.screenshot(path=str(artefacts / f"{name}.png"), full_page=True)
