"""One rule for "attended": checked in at the door, or some minutes in the webinar. The model,
its SQL form, the console's counts, the reports and scoring all read it the same way."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.admin.tables import counts_by_event
from app.db import db, utcnow
from app.followup.scoring import Engagement
from app.registrations.models import Registration
from app.registrations.services import check_in
from app.reports.figures import event_report
from tests.builders import make_event, register_person
from tests.followup_fixtures import attend

# (checked in, webinar minutes, attended)
CASES = [
    (False, None, False),
    (False, 0.0, False),
    (False, 12.5, True),
    (True, None, True),
    (True, 0.0, True),
    (True, 30.0, True),
]


@pytest.mark.parametrize(("checked_in", "minutes", "attended"), CASES)
def test_a_registration_and_a_query_agree_on_whether_someone_attended(
    app, checked_in, minutes, attended
):
    event = make_event(location="Hall A")
    registration = register_person(event, "ada@example.com")
    registration.checked_in_at = utcnow() if checked_in else None
    registration.attended_minutes = minutes
    db.session.commit()

    assert registration.attended is attended
    found = db.session.scalars(select(Registration.id).where(Registration.attended)).all()
    assert found == ([registration.id] if attended else [])
    engagement = Engagement(attended_minutes=minutes, event_minutes=60, checked_in=checked_in)
    assert engagement.attended is attended


def test_the_console_and_the_reports_count_a_check_in_without_minutes_as_attending(staff):
    event = make_event(location="Hall A")
    door = register_person(event, "door@example.com")
    register_person(event, "online@example.com")
    register_person(event, "away@example.com")
    # The webinar report lists only the online attendee: the other two get 0 minutes.
    attend(event, {"online@example.com": 40})
    check_in(door.id)

    assert counts_by_event([event.id])[event.id].attended == 2
    assert event_report(event).funnel.attended == 2
    page = staff.get(f"/admin/events/{event.slug}/attendance").text
    now = " ".join(re.sub(r"<[^>]+>", " ", page.split('id="now-heading"')[1]).split())
    # Only the one neither checked in nor in the report is a no-show.
    assert "2 attended, 1 no-shows." in now
