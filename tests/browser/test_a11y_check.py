"""The accessibility check itself: it passes a sound page and names each kind of offender."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.a11y import AccessibilityProblems, accessibility_problems, assert_accessible

pytestmark = pytest.mark.browser

SOUND = """<!doctype html><html lang="en"><body>
<h1>Register</h1>
<form>
  <label for="email">Email</label><input id="email" type="email" aria-describedby="email-hint">
  <p id="email-hint">Your work address</p>
  <label>Company <input name="company"></label>
  <input aria-label="Search" type="search">
  <span id="zone-label">Time zone</span>
  <select aria-labelledby="zone-label"><option>UTC</option></select>
  <input type="hidden" name="csrf_token" value="x">
  <input type="text" name="trap" style="display:none">
  <img src="data:," alt="">
  <button type="submit">Reserve</button>
  <button type="button" aria-label="Close"></button>
  <a href="/">Home</a>
</form></body></html>"""


@pytest.fixture
def blank_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_sound_page_passes(blank_page):
    blank_page.set_content(SOUND)
    assert accessibility_problems(blank_page) == []
    assert_accessible(blank_page)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><body><h1>Title</h1></body></html>", "html has no lang"),
        ('<html lang="en"><body><p>No heading</p></body></html>', "exactly one h1, found 0"),
        ('<html lang="en"><body><h1>One</h1><h1>Two</h1></body></html>', "found 2"),
        (
            '<html lang="en"><body><h1>T</h1><input id="email" type="email"></body></html>',
            'form control without a label: <input id="email" type="email">',
        ),
        (
            '<html lang="en"><body><h1>T</h1><select name="country"></select></body></html>',
            'form control without a label: <select name="country">',
        ),
        (
            '<html lang="en"><body><h1>T</h1><textarea name="notes"></textarea></body></html>',
            'form control without a label: <textarea name="notes">',
        ),
        (
            '<html lang="en"><body><h1>T</h1><label for="other">Email</label>'
            '<input id="email"><span id="other"></span></body></html>',
            'form control without a label: <input id="email">',
        ),
        (
            '<html lang="en"><body><h1>T</h1><img src="data:,"></body></html>',
            "image without alt",
        ),
        (
            '<html lang="en"><body><h1>T</h1><button type="submit"> </button></body></html>',
            "button without accessible text",
        ),
        (
            '<html lang="en"><body><h1>T</h1><input type="submit" value=""></body></html>',
            "button without accessible text",
        ),
        (
            '<html lang="en"><body><h1>T</h1><a href="/x"></a></body></html>',
            "link without text",
        ),
        (
            '<html lang="en"><body><h1>T</h1><p id="a">1</p><p id="a">2</p></body></html>',
            'id "a" is used 2 times',
        ),
        (
            '<html lang="en"><body><h1>T</h1><label for="e">E</label>'
            '<input id="e" aria-describedby="e-error"></body></html>',
            'aria-describedby points at missing id "e-error"',
        ),
    ],
)
def test_each_kind_of_offender_is_named(blank_page, html, expected):
    blank_page.set_content(html)
    with pytest.raises(AccessibilityProblems) as raised:
        assert_accessible(blank_page)
    assert expected in str(raised.value)
    assert len(raised.value.problems) == 1, raised.value.problems


def test_every_offender_is_listed_not_only_the_first(blank_page):
    blank_page.set_content("<html><body><input><img src='data:,'><button></button></body></html>")
    problems = accessibility_problems(blank_page)
    assert len(problems) == 5, problems
