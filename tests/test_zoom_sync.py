"""Registrants pushed to Zoom by the worker: each confirmed registration added once with its
own join link (carried by its email, invite and manage page), cancellations undone there,
and a registration that never waits on Zoom, down or busy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.services import cancel_event
from app.mail.models import OutboxMessage
from app.platforms.models import RegistrantSync
from app.privacy.people import erase_person, export_person
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.services import cancel
from app.worker import run_due_jobs
from tests.builders import register_person
from tests.fake_zoom import FakeZoom
from tests.platform_fixtures import sync_of, text_of
from tests.smtp import SmtpSink
from tests.zoom_fixtures import WEBINAR_ID, app_config, zoom_event_fixture, zoom_fixture

__all__ = ["app_config", "zoom_event_fixture", "zoom_fixture"]

EVENT_LINK = "https://meet.example.com/launch"


def _text_and_invite(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    text = text_of(message)
    invites = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    invite = invites[0].get_content() if invites else ""
    if isinstance(invite, bytes):
        invite = invite.decode()
    return text, invite.replace("\r\n ", "")


def test_registration_adds_a_zoom_registrant_and_its_email_carries_the_personal_link(
    app, client, zoom: FakeZoom, zoom_event, smtp_server: SmtpSink
):
    app.config.update(smtp_server.mail_config)
    registration = register_person(zoom_event, "ada@example.com", last_name="Lovelace")

    run_due_jobs()

    registrants = list(zoom.webinar(WEBINAR_ID).registrants.values())
    assert [(r["email"], r["first_name"], r["last_name"]) for r in registrants] == [
        ("ada@example.com", "Ada", "Lovelace")
    ]
    db.session.refresh(registration)
    personal = registration.join_url
    assert personal and personal.endswith(registrants[0]["id"])
    assert sync_of(registration).status == "synced"
    # The confirmation was written after the sync in the same pass: the personal link only.
    (received,) = smtp_server.received
    text, invite = _text_and_invite(received.message)
    assert personal in text and EVENT_LINK not in text
    assert f"URL:{personal}" in invite and EVENT_LINK not in invite
    manage = client.get(manage_url(registration).removeprefix("http://testserver"))
    assert personal in manage.text and EVENT_LINK not in manage.text


def test_zoom_down_during_a_rush_then_back_syncs_every_registrant_once(
    app, zoom: FakeZoom, zoom_event, smtp_server: SmtpSink
):
    app.config.update(smtp_server.mail_config)
    zoom.down = True
    registrations = [register_person(zoom_event, f"rush{n}@example.com") for n in range(30)]
    assert all(r.status == "confirmed" for r in registrations)

    run_due_jobs()

    # Zoom was asked once, not thirty times; everyone has a seat and a letter with the event's link.
    assert zoom.calls == []
    rows = db.session.scalars(select(RegistrantSync)).all()
    assert {row.status for row in rows} == {"pending"} and len(rows) == 30
    assert all("503" in (row.last_error or "") for row in rows)
    assert len(smtp_server.received) == 30
    assert all(EVENT_LINK in _text_and_invite(m.message)[0] for m in smtp_server.received)

    zoom.down = False
    later = utcnow() + timedelta(hours=2)
    run_due_jobs(later)
    run_due_jobs(later + timedelta(hours=2))

    registrants = zoom.webinar(WEBINAR_ID).registrants.values()
    assert sorted(r["email"] for r in registrants) == sorted(r.email for r in registrations)
    assert {row.status for row in db.session.scalars(select(RegistrantSync))} == {"synced"}
    # Each got one update carrying their own link, as a new version of their invite.
    updates = smtp_server.received[30:]
    assert len(updates) == 30
    for registration in registrations:
        db.session.refresh(registration)
        (update,) = [m for m in updates if m.recipients == (registration.email,)]
        text, invite = _text_and_invite(update.message)
        assert registration.join_url and registration.join_url in text
        assert "SEQUENCE:1" in invite and f"URL:{registration.join_url}" in invite


def test_a_429_waits_as_long_as_zoom_asks(app, zoom: FakeZoom, zoom_event):
    zoom.throttle(600)
    registration = register_person(zoom_event, "busy@example.com")
    start = utcnow()

    run_due_jobs(start)
    row = sync_of(registration)
    assert row.status == "pending" and "slow down" in (row.last_error or "")
    assert row.next_attempt_at >= start + timedelta(seconds=599)

    run_due_jobs(start + timedelta(seconds=300))
    assert zoom.webinar(WEBINAR_ID).registrants == {}

    run_due_jobs(start + timedelta(seconds=601))
    assert sync_of(registration).status == "synced"
    assert len(zoom.webinar(WEBINAR_ID).registrants) == 1


def test_a_refusal_from_zoom_is_recorded_and_not_retried(app, zoom: FakeZoom, zoom_event):
    zoom.webinars.clear()  # the webinar was deleted on Zoom
    registration = register_person(zoom_event, "late@example.com")

    run_due_jobs()
    run_due_jobs(utcnow() + timedelta(days=1))

    row = sync_of(registration)
    assert row.status == "failed" and row.attempts == 1
    assert "Webinar does not exist" in (row.last_error or "")
    assert len(zoom.calls) == 1


def test_a_revoked_token_is_renewed_once(app, zoom: FakeZoom, zoom_event):
    register_person(zoom_event, "first@example.com")
    run_due_jobs()
    zoom.revoke_tokens()
    second = register_person(zoom_event, "second@example.com")

    run_due_jobs()

    assert sync_of(second).status == "synced"
    assert zoom.token_requests == 2


def test_cancelling_cancels_the_zoom_registrant(app, zoom: FakeZoom, zoom_event):
    registration = register_person(zoom_event, "leaving@example.com")
    run_due_jobs()
    registrant_id = sync_of(registration).registrant_id

    cancel(registration.id, by="registrant")
    run_due_jobs()

    assert zoom.cancelled == [(WEBINAR_ID, registrant_id)]
    assert sync_of(registration).status == "cancelled"


def test_a_registration_cancelled_before_zoom_heard_of_it_costs_no_call(
    app, zoom: FakeZoom, zoom_event
):
    registration = register_person(zoom_event, "quick@example.com")
    cancel(registration.id, by="staff")

    run_due_jobs()

    assert zoom.calls == [] and zoom.cancelled == []
    assert sync_of(registration).status == "cancelled"


def test_cancelling_the_event_cancels_every_zoom_registrant(app, zoom: FakeZoom, zoom_event):
    people = [register_person(zoom_event, f"p{n}@example.com") for n in range(3)]
    run_due_jobs()

    cancel_event(zoom_event)
    run_due_jobs()

    assert len(zoom.cancelled) == 3
    assert {sync_of(person).status for person in people} == {"cancelled"}


def test_an_event_without_a_platform_makes_no_sync_rows(app, zoom: FakeZoom, event):
    register_person(event, "plain@example.com")
    run_due_jobs()
    assert db.session.scalar(select(func.count()).select_from(RegistrantSync)) == 0
    assert zoom.calls == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_zoom_unreachable_leaves_the_registration_confirmed_and_the_sync_waiting(
    app, zoom: FakeZoom, zoom_event
):
    app.config.update(ZOOM_API_BASE="http://127.0.0.1:9/v2", ZOOM_OAUTH_BASE="http://127.0.0.1:9")
    registration = register_person(zoom_event, "offline@example.com")

    run_due_jobs()

    assert registration.status == "confirmed"
    row = sync_of(registration)
    assert row.status == "pending" and row.attempts == 1
    assert "Could not reach Zoom" in (row.last_error or "")
    assert row.next_attempt_at > utcnow()


def test_linking_an_event_to_a_webinar_later_adds_those_already_registered(
    app, zoom: FakeZoom, event
):
    from app.events.services import update_event

    early = [register_person(event, f"early{n}@example.com") for n in range(3)]
    run_due_jobs()

    update_event(event, {"platform": "zoom", "platform_webinar_id": WEBINAR_ID})
    run_due_jobs()

    emails = sorted(r["email"] for r in zoom.webinar(WEBINAR_ID).registrants.values())
    assert emails == sorted(r.email for r in early)
    assert {sync_of(r).status for r in early} == {"synced"}


def test_erasing_a_person_cancels_their_zoom_registrant_and_drops_their_link(
    app, zoom: FakeZoom, zoom_event
):
    registration = register_person(zoom_event, "forget.me@example.com")
    run_due_jobs()
    registrant_id = sync_of(registration).registrant_id
    assert registration.join_url

    exported = export_person("forget.me@example.com")
    assert exported is not None
    assert [row["join_url"] for row in exported["platform_registrants"]] == [registration.join_url]

    erase_person("forget.me@example.com", actor="test", source="cli")

    # Zoom is asked while the address is still known, in the erasure itself.
    assert zoom.cancelled == [(WEBINAR_ID, registrant_id)]
    db.session.expire_all()
    assert sync_of(registration).status == "cancelled"
    assert db.session.get(Registration, registration.id).join_url is None


def test_erasing_while_zoom_is_down_leaves_the_cancel_to_the_worker(
    app, zoom: FakeZoom, zoom_event
):
    registration = register_person(zoom_event, "later@example.com")
    run_due_jobs()
    registrant_id = sync_of(registration).registrant_id

    zoom.down = True
    erase_person("later@example.com", actor="test", source="cli")
    db.session.expire_all()
    assert sync_of(registration).status == "pending" and zoom.cancelled == []

    zoom.down = False
    run_due_jobs()
    assert zoom.cancelled == [(WEBINAR_ID, registrant_id)]
    assert sync_of(registration).status == "cancelled"
