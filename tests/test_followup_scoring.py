"""Priority from engagement, and due times counted in the rep's own business hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import db
from app.followup.routing import route_followups
from app.followup.scoring import (
    Engagement,
    SettingsRejected,
    add_business_minutes,
    load_settings,
    save_settings,
    score,
)
from tests.builders import make_event, register_person
from tests.followup_fixtures import attend, followup_of, make_rep

BERLIN = ZoneInfo("Europe/Berlin")


def test_an_attendee_who_stayed_to_the_end_is_hot(app):
    result = score(Engagement(attended_minutes=58, event_minutes=60), load_settings())
    assert result.priority == "hot"


def test_an_attendee_who_left_early_but_asked_questions_is_hot(app):
    engaged = Engagement(attended_minutes=35, event_minutes=60, questions=2)
    quiet = Engagement(attended_minutes=35, event_minutes=60)
    assert score(engaged, load_settings()).priority == "hot"
    assert score(quiet, load_settings()).priority == "warm"


def test_a_no_show_is_never_hot_whatever_else_it_did(app):
    repeat_registrant = Engagement(attended_minutes=0, event_minutes=60, earlier_registrations=9)
    unknown = Engagement(attended_minutes=None, event_minutes=60, earlier_registrations=9)
    assert score(repeat_registrant, load_settings()).priority == "cold"
    assert score(unknown, load_settings()).priority == "cold"


def test_thresholds_are_settings(app):
    save_settings({"hot_score": 90})
    db.session.commit()
    engagement = Engagement(attended_minutes=58, event_minutes=60)
    assert score(engagement, load_settings()).priority == "warm"


def test_settings_that_make_no_sense_are_refused_naming_the_field(app):
    with pytest.raises(SettingsRejected) as refused:
        save_settings(
            {
                "hot_score": 20,
                "warm_score": 40,
                "workday_start": "18:00",
                "workday_end": "09:00",
                "sla_minutes": {"hot": 0, "warm": 60, "cold": 60},
            }
        )
    assert set(refused.value.fields) == {"warm_score", "workday_end", "sla_minutes.hot"}


def test_business_minutes_skip_nights_and_weekends(app):
    friday_late = datetime(2026, 12, 4, 16, 30, tzinfo=BERLIN).astimezone(UTC)
    due = add_business_minutes(friday_late, 60, "Europe/Berlin", load_settings())
    assert due.astimezone(BERLIN) == datetime(2026, 12, 7, 9, 30, tzinfo=BERLIN)

    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=BERLIN).astimezone(UTC)
    due = add_business_minutes(saturday, 3 * 8 * 60, "Europe/Berlin", load_settings())
    assert due.astimezone(BERLIN) == datetime(2026, 12, 9, 17, 0, tzinfo=BERLIN)


def test_a_hot_lead_is_due_within_one_business_hour_of_the_reps_own_day(app):
    # The webinar ends on Friday 4 December 2026 at 17:00 in Berlin, which is 11:00 in New York.
    event = make_event(
        slug="friday",
        starts_at=datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
        duration_minutes=60,
        timezone="Europe/Berlin",
    )
    make_rep("ny@example.com", timezone="America/New_York", countries=("US",))
    make_rep("berlin@example.com", timezone="Europe/Berlin", countries=("DE",))
    register_person(event, "us@firm.example", country="US")
    register_person(event, "de@firma.example", country="DE")
    attend(event, {"us@firm.example": 60, "de@firma.example": 60})

    route_followups(event.id, now=event.ends_at)

    new_york = followup_of("us@firm.example").due_at.astimezone(ZoneInfo("America/New_York"))
    berlin = followup_of("de@firma.example").due_at.astimezone(BERLIN)
    assert new_york == datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    assert berlin == datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)
    assert followup_of("us@firm.example").priority == "hot"
