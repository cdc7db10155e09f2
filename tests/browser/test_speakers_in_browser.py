"""The landing page's speakers in a real chromium, on a phone (390 px) and a desktop (1280 px):
a speaker without a photo gets their initials in a circle of the photo's size, so every name
starts at the same distance from its picture."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route

from tests.a11y import assert_accessible
from tests.browser.screens import assert_fits_and_reads
from tests.builders import make_event

pytestmark = pytest.mark.browser

PHOTO = "https://cdn.example/alice.png"
# A 1x1 PNG: the browser reaches no other site, so the photo is answered from here.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SPEAKERS = [
    {"name": "Alice Ng", "title": "Head of research", "photo_url": PHOTO},
    {"name": "bob van der Berg", "title": "Engineer", "photo_url": None},
]
BOXES = """
() => [...document.querySelectorAll(".speaker")].map((item) => {
  const picture = item.firstElementChild.getBoundingClientRect();
  const name = item.querySelector("strong").getBoundingClientRect();
  return {
    width: picture.width, height: picture.height,
    left: picture.left - item.getBoundingClientRect().left,
    nameLeft: name.left - picture.right,
    middle: picture.top + picture.height / 2 - item.getBoundingClientRect().top,
  };
})
"""


def serve_photo(route: Route) -> None:
    route.fulfill(status=200, content_type="image/png", body=PNG)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_speaker_without_a_photo_lines_up_with_one_with_a_photo(
    app, page: Page, tmp_path: Path, width: int
):
    event = make_event(speakers=SPEAKERS)
    page.set_viewport_size({"width": width, "height": 900})
    page.route("https://cdn.example/**", serve_photo)
    page.goto(f"/e/{event.slug}")
    page.wait_for_load_state("load")

    placeholder = page.locator(".speaker-initials")
    assert placeholder.inner_text() == "BB"
    assert placeholder.get_attribute("aria-hidden") == "true"
    with_photo, without = page.evaluate(BOXES)
    assert with_photo["width"] == with_photo["height"] == 64
    for key in ("width", "height", "left", "nameLeft", "middle"):
        assert without[key] == pytest.approx(with_photo[key], abs=0.5), key
    assert_fits_and_reads(page, f"speakers-{width}", tmp_path)
    assert_accessible(page)
