"""Honest pages: a past or cancelled event says so at the top, never advertises seats, and
offers no registration form (a past one offers its replay, or the next event of its campaign);
a full event with a waitlist says "Join the waitlist"."""

from __future__ import annotations

from datetime import timedelta

from app.db import db, utcnow
from app.events.services import cancel_event
from tests.builders import make_event, register_person


def _past(**overrides):  # type: ignore[no-untyped-def]
    starts = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    return make_event(starts_at=starts, capacity=50, **overrides)


def test_a_past_webinar_says_when_it_took_place_in_its_zone_and_shows_no_seats_and_no_form(
    client, app
):
    event = _past()
    page = client.get(f"/e/{event.slug}").text
    day = event.starts_at.astimezone(event.zone).strftime("%A %-d %B %Y")
    assert f"This webinar took place on {day}." in page
    assert page.index("This webinar took place") < page.index("<h1>")
    assert "left" not in page and "Seats" not in page
    assert "<form" not in page
    assert "Reserve your spot" not in page


def test_a_past_event_points_to_the_next_event_of_its_campaign(client, app):
    event = _past(slug="spring-one", campaign="Spring series")
    make_event(slug="other-series", campaign="Autumn", starts_at=utcnow() + timedelta(days=1))
    make_event(
        slug="spring-three",
        title="Spring three",
        campaign="Spring series",
        starts_at=(utcnow() + timedelta(days=20)).replace(microsecond=0),
    )
    make_event(
        slug="spring-two",
        title="Spring two",
        campaign="Spring series",
        starts_at=(utcnow() + timedelta(days=10)).replace(microsecond=0),
    )
    make_event(
        slug="spring-draft",
        title="Spring draft",
        campaign="Spring series",
        status="draft",
        starts_at=(utcnow() + timedelta(days=5)).replace(microsecond=0),
    )
    page = client.get(f"/e/{event.slug}").text
    assert 'href="/e/spring-two"' in page
    assert "spring-three" not in page and "spring-draft" not in page and "other-series" not in page


def test_a_past_event_without_campaign_or_next_event_shows_only_its_banner(client, app):
    event = _past(campaign=None)
    page = client.get(f"/e/{event.slug}").text
    assert "took place on" in page and "Next in this series" not in page


def test_a_past_webinar_with_a_recording_offers_the_replay_form_instead(client, app):
    event = _past()
    event.recording_url = "https://video.example.com/launch"
    db.session.commit()
    page = client.get(f"/e/{event.slug}").text
    assert "This webinar took place on" in page
    assert '<h2 id="reserve-heading">Watch the recording</h2>' in page
    assert "<form" in page
    assert "left" not in page.split("<form")[0]
    assert "Reserve" not in page


def test_a_webinar_that_ended_early_is_past_at_its_reported_end(client, app):
    event = make_event(starts_at=(utcnow() - timedelta(minutes=20)).replace(microsecond=0))
    event.ended_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    page = client.get(f"/e/{event.slug}").text
    assert "This webinar took place on" in page and "<form" not in page


def test_a_cancelled_event_says_so_at_the_top_with_no_seats_and_no_form(client, app):
    event = make_event(capacity=50)
    register_person(event, "ada@example.com")
    cancel_event(event)
    page = client.get(f"/e/{event.slug}").text
    assert "This event was cancelled." in page
    assert page.index("This event was cancelled.") < page.index("<h1>")
    assert "left" not in page and "<form" not in page


def test_a_full_event_with_a_waitlist_is_headed_join_the_waitlist(client, app):
    event = make_event(capacity=1, waitlist=True)
    register_person(event, "ada@example.com")
    page = client.get(f"/e/{event.slug}").text
    assert '<h2 id="reserve-heading">Join the waitlist</h2>' in page
    assert "Reserve your spot" not in page
    assert "<form" in page


def test_an_open_event_is_headed_reserve_your_spot_with_its_seats(client, app):
    make_event(capacity=5)
    page = client.get("/e/launch-webinar").text
    assert '<h2 id="reserve-heading">Reserve your spot</h2>' in page
    assert "5 of 5 left" in page
    assert "took place" not in page and "cancelled" not in page
