"""A past webinar's replay in a real browser: the page says when it took place and offers
"Watch the recording" behind the same form, with no seats; sending the form goes through the
tracked link to the recording, and the view is recorded as on-demand attendance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db, utcnow
from app.registrations.models import Registration
from tests.a11y import assert_accessible
from tests.builders import make_event

pytestmark = pytest.mark.browser


@pytest.fixture
def replay(app, live_server):  # type: ignore[no-untyped-def]
    event = make_event(starts_at=(utcnow() - timedelta(days=1)).replace(microsecond=0), capacity=40)
    # The video site stands in as a page of the test server (the browser reaches no other).
    event.recording_url = f"{live_server}/static/favicon.svg?recording=launch"
    db.session.commit()
    return event


def test_the_replay_form_leads_to_the_recording_and_records_the_view(
    replay, page: Page, live_server
):
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"/e/{replay.slug}")
    expect(page.get_by_role("status").first).to_contain_text("This webinar took place on")
    expect(page.get_by_role("heading", name="Watch the recording")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("left")
    assert_accessible(page)

    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("First name").fill("Grace")
    with page.expect_navigation(url=replay.recording_url):
        page.get_by_role("button", name="Watch the recording").click()

    db.session.commit()  # a new transaction sees what the server committed
    registration = db.session.scalars(
        select(Registration).where(Registration.email == "grace@example.com")
    ).one()
    assert registration.status == "on_demand"
    assert registration.on_demand_at is not None and registration.on_demand_views == 1
    assert problems == []
