"""Changes that tell people why: editing a live event's time, place or join link first says how
many registrants it emails and waits for a confirmation; the update email shows the old and the
new time; a cancellation carries the organizer's message; staff's cancel of a seat says so."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.events.services import update_event
from app.mail.models import OutboxMessage
from app.mail.receivers import update_audience
from app.pages import local_time
from app.registrations import services
from app.registrations.links import manage_token
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import cancel_in_two_steps, event_form, form_token, register_person
from tests.test_mail_messages import SENDER, body, calendar_parts

EDIT = "/admin/events/spring-product-tour/edit"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config, "MAIL_DEFAULT_SENDER": SENDER}


@pytest.fixture
def live(staff):  # type: ignore[no-untyped-def]
    """A published event of 2 seats: two confirmed, one waitlisted, one who cancelled."""
    assert event_form(staff, capacity="2").status_code == 303
    event = db.session.scalars(select(Event)).one()
    update_event(event, {"status": "published"})
    register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    register_person(event, "cy@example.com")
    gone = register_person(event, "dee@example.com")
    services.cancel(gone.id)
    run_due_jobs()
    return event


def updates_owed() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "update")
        )
        or 0
    )


def test_moving_a_live_event_first_says_how_many_registrants_it_will_email(staff, live):
    response = event_form(staff, EDIT, capacity="2", starts_at="2030-07-02T15:30")
    assert response.status_code == 200
    assert "This will email 3 registrants" in response.text
    assert 'name="notify" value="confirmed"' in response.text
    # The confirm step keeps what was typed, to be sent again as it is.
    assert 'value="2030-07-02T15:30"' in response.text
    assert update_audience(live) == 3

    db.session.expire_all()
    assert live.starts_at == datetime.fromisoformat("2030-07-01T08:00:00+00:00")
    assert updates_owed() == 0


def test_nothing_is_emailed_until_the_change_is_confirmed_then_everyone_counted_is(
    staff, live, smtp_server
):
    event_form(staff, EDIT, capacity="2", location="Hall 2, Berlin")
    assert updates_owed() == 0
    confirmed = event_form(staff, EDIT, capacity="2", location="Hall 2, Berlin", notify="confirmed")
    assert confirmed.status_code == 303
    db.session.expire_all()
    assert live.location == "Hall 2, Berlin"
    assert updates_owed() == 3
    run_due_jobs()
    told = {
        address
        for address in ("ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com")
        if any(m["Subject"] == "Updated: Spring product tour" for m in smtp_server.to(address))
    }
    assert told == {"ada@example.com", "bob@example.com", "cy@example.com"}


def test_a_change_nobody_is_emailed_about_saves_at_once(staff, live):
    response = event_form(staff, EDIT, capacity="2", description="A new agenda.")
    assert response.status_code == 303
    assert updates_owed() == 0


def test_a_draft_or_an_event_nobody_registered_for_has_no_confirm_step(staff):
    assert event_form(staff).status_code == 303
    moved = event_form(staff, EDIT, starts_at="2030-07-03T09:00")
    assert moved.status_code == 303
    update_event(db.session.scalars(select(Event)).one(), {"status": "published"})
    assert event_form(staff, EDIT, starts_at="2030-07-04T09:00").status_code == 303


def test_the_update_email_shows_the_old_and_the_new_time_in_the_events_zone(
    staff, live, smtp_server
):
    event_form(
        staff,
        EDIT,
        capacity="2",
        starts_at="2030-07-02T15:30",
        duration_minutes="90",
        notify="confirmed",
    )
    run_due_jobs()
    old = local_time(datetime.fromisoformat("2030-07-01T08:00:00+00:00"), "Europe/Berlin")
    new = local_time(datetime.fromisoformat("2030-07-02T13:30:00+00:00"), "Europe/Berlin")
    assert old == "Monday 1 July 2030, 10:00 CEST"
    (update,) = [m for m in smtp_server.to("ada@example.com") if m["Subject"].startswith("Updated")]
    text = body(update, "plain")
    assert f"Was: {old} (45 minutes)" in text
    assert f"Now: {new} (1 hour 30 minutes)" in text
    assert old in body(update, "html") and new in body(update, "html")
    assert calendar_parts(update)
    (note,) = [m for m in smtp_server.to("cy@example.com") if m["Subject"].startswith("Updated")]
    assert "Your place on the waitlist is kept." in body(note, "plain")
    assert f"Was: {old}" in body(note, "plain") and not calendar_parts(note)


def test_cancelling_an_event_carries_the_organizers_message(staff, live, smtp_server):
    path = "/admin/events/spring-product-tour/cancel"
    response = staff.post(
        path,
        data={
            "csrf_token": form_token(staff, path),
            "confirm": "y",
            "message": "Our speaker is ill.\r\nWe will run it again in September.",
        },
    )
    assert response.status_code == 303
    run_due_jobs()
    for address in ("ada@example.com", "cy@example.com"):
        (letter,) = [m for m in smtp_server.to(address) if m["Subject"].startswith("Cancelled")]
        text = body(letter, "plain").replace("\r\n", "\n")
        assert "Our speaker is ill.\nWe will run it again in September." in text
        assert "Our speaker is ill." in body(letter, "html")


def test_a_cancel_message_past_its_limit_is_refused_naming_the_field(staff, live):
    path = "/admin/events/spring-product-tour/cancel"
    response = staff.post(
        path, data={"csrf_token": form_token(staff, path), "confirm": "y", "message": "x" * 2001}
    )
    assert response.status_code == 422
    assert "Use at most 2000 characters" in response.text
    db.session.expire_all()
    assert live.status == "published"


def _registration(email: str) -> Registration:
    return db.session.scalars(select(Registration).where(Registration.email == email)).one()


def test_a_seat_cancelled_by_staff_is_told_so_with_their_message(staff, live, smtp_server):
    ada = _registration("ada@example.com")
    detail = f"/admin/events/spring-product-tour/registrations/{ada.id}"
    response = staff.post(
        f"{detail}/cancel",
        data={
            "csrf_token": form_token(staff, detail),
            "message": "This session is for customers only, sorry.",
        },
    )
    assert response.status_code == 303
    run_due_jobs()
    (letter,) = [m for m in smtp_server.to("ada@example.com") if "cancelled" in m["Subject"]]
    text = body(letter, "plain")
    assert "The organizer cancelled your registration for Spring product tour." in text
    assert "This session is for customers only, sorry." in text
    assert "Changed your mind?" not in text and "Changed your mind?" not in body(letter, "html")
    assert "This session is for customers only, sorry." in body(letter, "html")


def test_a_registrant_who_cancels_still_reads_changed_your_mind(client, live, smtp_server):
    bob = _registration("bob@example.com")
    assert cancel_in_two_steps(client, f"/r/{manage_token(bob)}").status_code == 303
    run_due_jobs()
    (letter,) = [m for m in smtp_server.to("bob@example.com") if "cancelled" in m["Subject"]]
    assert "Changed your mind?" in body(letter, "plain")
    assert "The organizer cancelled" not in body(letter, "plain")


def test_a_staff_message_past_its_limit_cancels_nothing(staff, live):
    ada = _registration("ada@example.com")
    detail = f"/admin/events/spring-product-tour/registrations/{ada.id}"
    response = staff.post(
        f"{detail}/cancel",
        data={"csrf_token": form_token(staff, detail), "message": "x" * 2001},
        follow_redirects=True,
    )
    assert "Message: Use at most 2000 characters" in response.text
    db.session.expire_all()
    assert ada.status == "confirmed"
