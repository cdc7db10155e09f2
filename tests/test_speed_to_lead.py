"""Speed to lead runs from the webinar's actual end when its platform reported it (`mark_ended`),
else from the scheduled end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.db import db
from app.events.models import Event
from app.events.services import mark_ended
from app.followup.feedback import lead_quality
from tests.builders import log_in, make_user
from tests.test_followup_console import routed_with_outcomes


def linkedin(by: str = "utm_source"):  # type: ignore[no-untyped-def]
    return next(line for line in lead_quality(by) if line.label == "linkedin")


def test_without_a_reported_end_speed_runs_from_the_scheduled_end(app, event):
    routed_with_outcomes(event)

    line = linkedin()

    assert (line.median_hours, line.p90_hours) == (3.0, 5.0)
    assert line.measured_from == "scheduled end"


def test_with_the_actual_end_speed_to_lead_is_measured_from_it(app, client, event):
    routed_with_outcomes(event)
    # The webinar ran an hour over: the reps' contacts came an hour sooner after its real end.
    assert mark_ended(event, event.ends_at + timedelta(hours=1))
    db.session.commit()

    line = linkedin()

    assert sorted(line.speeds) == [0.0, 2.0, 4.0]
    assert (line.median_hours, line.p90_hours) == (2.0, 4.0)
    assert line.measured_from == "actual end"
    log_in(client, make_user("marketer", "m@example.com"))
    page = client.get("/admin/feedback?by=utm_source").text
    row = page.split('<th scope="row">linkedin</th>')[1].split("</tr>")[0]
    assert "2.0 h" in row and "<td>actual end</td>" in row


def test_the_first_reported_end_wins(app, event):
    first = event.ends_at + timedelta(minutes=5)

    assert mark_ended(event, first) is True
    assert mark_ended(event, first + timedelta(hours=2)) is False
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Event, event.id).ended_at == first


def test_a_naive_end_time_is_refused(app, event):
    with pytest.raises(ValueError):
        mark_ended(event, datetime(2026, 5, 12, 16, 0))
    assert event.ended_at is None
