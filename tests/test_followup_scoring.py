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
from app.registrations.services import check_in
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


def test_a_registrant_checked_in_at_the_door_is_scored_as_an_attendee(app):
    # "Attended" is one rule everywhere (checked in, or minutes in the webinar): the console
    # and the reports count a check-in as attending, so scoring does too, and only an attendee
    # can be hot. Minutes still decide the share of the event watched.
    save_settings({"hot_score": 10, "warm_score": 5})
    db.session.commit()
    event = make_event(slug="meetup", location="Hall A")
    make_rep("rep@example.com")
    door = register_person(event, "door@firm.example")
    home = register_person(event, "home@firm.example")
    # Neither is in the webinar's report (0 minutes each): the check-in alone says who was there.
    attend(event, {"other@firm.example": 30})
    check_in(door.id)
    for registration in (door, home):
        # Asked at the venue; the import would have reset what the report did not list.
        registration.questions_asked = 1
    db.session.commit()

    route_followups(event.id, now=event.ends_at)

    assert followup_of("door@firm.example").priority == "hot"
    assert followup_of("home@firm.example").priority == "warm"
    assert score(Engagement(None, 60, questions=1, checked_in=True), load_settings()).score == 10
