"""A returning lead's personal link in a real browser: the form opens filled in with what
they gave before, the questions they answered are not asked again (nor those hanging on
them), and one click registers them with the stored answers; a tampered link is the plain
form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.models import Lead, Registration
from app.registrations.personal_links import personal_token
from app.registrations.questions import add_built_in, add_question, change_question
from tests.a11y import assert_accessible
from tests.builders import make_event, register_person

pytestmark = pytest.mark.browser


@pytest.fixture
def returning_lead(app):  # type: ignore[no-untyped-def]
    """Ada answered the spring webinar's questions; the autumn one asks the same, and more."""
    spring = make_event(slug="spring-webinar")
    autumn = make_event(slug="autumn-webinar")
    for event in (spring, autumn):
        change_question(add_built_in(event.id, "company_size"), {"required": True})
        add_question(
            event.id,
            {
                "key": "procurement",
                "label": "Procurement involved",
                "type": "checkbox",
                "show_if": {"key": "company_size", "equals": "1000+"},
            },
        )
    add_question(autumn.id, {"key": "topic", "label": "Topic you care about", "type": "text"})
    register_person(
        spring,
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        job_title="Engineer",
        country="GB",
        answers={"company_size": "1000+", "procurement": True},
    )
    db.session.commit()
    lead = db.session.scalars(select(Lead).where(Lead.email == "ada@example.com")).one()
    return personal_token(lead)


def test_one_click_registers_a_returning_lead_through_their_link(
    returning_lead, page: Page, live_server
):
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"/e/autumn-webinar?p={returning_lead}")

    expect(page.get_by_text("Welcome back, Ada.")).to_be_visible()
    expect(page.get_by_label("Work email")).to_have_value("ada@example.com")
    expect(page.get_by_label("Work email")).not_to_be_editable()
    expect(page.get_by_label("Last name")).to_have_value("Lovelace")
    expect(page.get_by_label("Company")).to_have_value("Analytical Engines")
    expect(page.get_by_label("Country")).to_have_value("GB")
    expect(page.get_by_label("Company size")).to_have_count(0)
    expect(page.get_by_label("Procurement involved")).to_have_count(0)
    expect(page.get_by_label("Topic you care about")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Reserve my spot").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You're registered")
    db.session.rollback()  # see what the server committed
    registration = db.session.scalars(
        select(Registration).join(Registration.event).where(Event.slug == "autumn-webinar")
    ).one()
    assert registration.email_normalized == "ada@example.com"
    assert registration.answers == {"company_size": "1000+", "procurement": True}
    assert (registration.last_name, registration.country) == ("Lovelace", "GB")
    assert problems == []


def test_a_tampered_link_opens_the_plain_form(returning_lead, page: Page, live_server):
    page.goto(f"/e/autumn-webinar?p={returning_lead[:-2]}xx")

    expect(page.get_by_role("heading", name="Reserve your spot")).to_be_visible()
    expect(page.get_by_label("Work email")).to_have_value("")
    expect(page.get_by_label("Work email")).to_be_editable()
    expect(page.get_by_label("Company size")).to_be_visible()
    expect(page.get_by_text("Welcome back")).to_have_count(0)
