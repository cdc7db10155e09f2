"""A conditional registration question in a real browser: with JavaScript it appears only
once its condition holds (under the strict CSP, from a static script); without JavaScript it
is asked with its condition in words, and the server does not require it when not asked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.db import db
from app.registrations.models import Registration
from app.registrations.questions import add_built_in, add_question, change_question
from tests.a11y import assert_accessible
from tests.builders import make_event

pytestmark = pytest.mark.browser

LANDING = "/e/launch-webinar"


@pytest.fixture
def asking_event(app):  # type: ignore[no-untyped-def]
    event = make_event()
    change_question(add_built_in(event.id, "company_size"), {"required": True})
    add_question(
        event.id,
        {
            "key": "procurement",
            "label": "Procurement involved",
            "type": "checkbox",
            "required": True,
            "show_if": {"key": "company_size", "equals": "1000+"},
        },
    )
    return event


def fill_in_the_person(page: Page, email: str) -> None:
    page.get_by_label("Work email").fill(email)
    page.get_by_label("First name").fill("Ada")


def stored_answers() -> dict:  # type: ignore[type-arg]
    db.session.rollback()  # see what the server committed
    return Registration.query.one().answers


def test_with_javascript_the_question_appears_when_its_condition_holds(
    asking_event, page: Page, live_server
):
    # A script error, or anything the content policy refused (an inline script would be).
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security" in message.text else None
        ),
    )
    page.goto(LANDING)
    fill_in_the_person(page, "ada@example.com")
    procurement = page.get_by_label("Procurement involved")
    expect(procurement).to_be_hidden()
    page.get_by_label("Company size").select_option("1000+")
    expect(procurement).to_be_visible()
    expect(page.get_by_text("Answer only if")).to_be_hidden()
    assert_accessible(page)
    page.get_by_label("Company size").select_option("1-99")
    expect(procurement).to_be_hidden()
    page.get_by_label("Company size").select_option("1000+")

    page.get_by_role("button", name="Reserve my spot").click()
    expect(page.get_by_text("Tick this box to register.")).to_be_visible()
    page.get_by_label("Procurement involved").check()
    page.get_by_role("button", name="Reserve my spot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're registered")
    assert stored_answers() == {"company_size": "1000+", "procurement": True}
    assert problems == []


def test_without_javascript_the_server_decides_what_was_asked(
    asking_event, open_context, live_server
):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(LANDING)
    fill_in_the_person(page, "bob@example.com")
    expect(page.get_by_label("Procurement involved")).to_be_visible()
    expect(page.get_by_text("Answer only if “Company size” is “1000+”.")).to_be_visible()
    page.get_by_label("Company size").select_option("100-999")

    page.get_by_role("button", name="Reserve my spot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're registered")
    assert stored_answers() == {"company_size": "100-999"}
