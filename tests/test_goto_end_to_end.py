"""GoTo Webinar end to end, through the same worker jobs as Zoom: a seat adds a GoTo registrant
whose own joinUrl is the link in the confirmation, a cancellation deletes it, a requested pull
applies every session's attendees and routes the follow-up, and an outage only delays the
adds (each registrant once)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import db, utcnow
from app.platforms.models import AttendancePull, RegistrantSync
from app.registrations.models import Registration
from app.registrations.services import cancel
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.fake_goto import FakeGoTo
from tests.followup_fixtures import followup_of, make_rep
from tests.goto_fixtures import WEBINAR_KEY, app_config, goto_event_fixture, goto_fixture
from tests.platform_fixtures import sync_of, text_of
from tests.smtp import SmtpSink

__all__ = ["app_config", "goto_event_fixture", "goto_fixture"]

EVENT_LINK = "https://meet.example.com/launch"
REGISTRANTS = f"/G2W/rest/v2/organizers/7000000000000000001/webinars/{WEBINAR_KEY}/registrants"


def test_registration_adds_a_goto_registrant_and_the_confirmation_carries_its_join_url(
    app, goto: FakeGoTo, goto_event, smtp_server: SmtpSink
):
    app.config.update(smtp_server.mail_config)
    registration = register_person(goto_event, "ada@example.com", last_name="Lovelace")

    run_due_jobs()

    (registrant,) = goto.webinar(WEBINAR_KEY).registrants.values()
    assert (registrant["email"], registrant["firstName"], registrant["lastName"]) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    row = sync_of(registration)
    assert (row.status, row.platform) == ("synced", "goto")
    assert row.registrant_id == str(registrant["registrantKey"])
    db.session.refresh(registration)
    assert registration.join_url == registrant["joinUrl"]
    (received,) = smtp_server.received
    text = text_of(received.message)
    assert registrant["joinUrl"] in text and EVENT_LINK not in text


def test_cancelling_deletes_the_goto_registrant(app, goto: FakeGoTo, goto_event):
    # No last name, which GoTo requires: the connector stands one in.
    registration = register_person(goto_event, "leaving@example.com")
    run_due_jobs()
    row = sync_of(registration)
    assert row.status == "synced", row.last_error
    registrant_key = row.registrant_id
    assert registrant_key in goto.webinar(WEBINAR_KEY).registrants

    cancel(registration.id, by="registrant")
    run_due_jobs()

    assert goto.webinar(WEBINAR_KEY).registrants == {}
    deletes = [call.path for call in goto.api_calls("DELETE")]
    assert deletes == [f"{REGISTRANTS}/{registrant_key}"]
    assert sync_of(registration).status == "cancelled"


def test_a_requested_pull_applies_goto_attendance_and_routes_followups_to_reps(
    app, client, goto: FakeGoTo
):
    make_rep("rita@example.com")
    make_rep("sam@example.com")
    start = (utcnow() - timedelta(minutes=70)).replace(microsecond=0)
    event = make_event(starts_at=start, platform="goto", platform_webinar_id=WEBINAR_KEY)
    for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
        register_person(event, email)
    # Two sessions: Ada dropped out of the first and came back, Bob came to the second only.
    goto.add_session(
        WEBINAR_KEY,
        "2030-01-01T10:00:00Z",
        "2030-01-01T11:00:00Z",
        [
            {
                "email": "ADA@example.com",
                "attendance": [
                    {"joinTime": "2030-01-01T10:00:00Z", "leaveTime": "2030-01-01T10:20:00Z"},
                    {"joinTime": "2030-01-01T10:30:00Z", "leaveTime": "2030-01-01T11:00:00Z"},
                ],
            }
        ],
    )
    goto.add_session(
        WEBINAR_KEY,
        "2030-01-02T10:00:00Z",
        "2030-01-02T11:00:00Z",
        [{"email": "bob@example.com", "attendanceTimeInSeconds": 600, "attendance": []}],
    )

    headers = bearer(make_user("marketer"))
    answer = client.post(f"/api/v1/events/{event.slug}/attendance/pull", headers=headers)
    assert answer.status_code == 202, answer.text
    run_due_jobs()

    db.session.expire_all()
    by_email = {r.email: r for r in db.session.scalars(select(Registration))}
    assert by_email["ada@example.com"].attended_minutes == 50
    assert by_email["bob@example.com"].attended_minutes == 10
    assert by_email["cy@example.com"].attended_minutes == 0  # a no-show
    assert all(followup_of(email, event).rep_id is not None for email in by_email)
    pull = db.session.scalar(select(AttendancePull).where(AttendancePull.event_id == event.id))
    assert pull is not None and (pull.status, pull.reason) == ("done", "requested")
    assert [call.path.rsplit("/", 1)[-1] for call in goto.api_calls("GET")].count("attendees") == 2


def test_goto_down_then_back_adds_each_registrant_once(
    app, goto: FakeGoTo, goto_event, smtp_server: SmtpSink
):
    app.config.update(smtp_server.mail_config)
    goto.down = True
    registrations = [register_person(goto_event, f"rush{n}@example.com") for n in range(5)]

    run_due_jobs()

    rows = db.session.scalars(select(RegistrantSync)).all()
    assert len(rows) == 5 and {row.status for row in rows} == {"pending"}
    assert all("503" in (row.last_error or "") for row in rows)
    assert goto.webinar(WEBINAR_KEY).registrants == {}
    # Everyone has their seat letter, with the event's link for now.
    assert len(smtp_server.received) == 5
    assert all(EVENT_LINK in text_of(m.message) for m in smtp_server.received)

    goto.down = False
    later = utcnow() + timedelta(hours=2)
    run_due_jobs(later)
    run_due_jobs(later + timedelta(hours=2))

    registrants = goto.webinar(WEBINAR_KEY).registrants.values()
    assert sorted(r["email"] for r in registrants) == sorted(r.email for r in registrations)
    assert len(goto.api_calls("POST")) == 5
    assert {row.status for row in db.session.scalars(select(RegistrantSync))} == {"synced"}
    updates = smtp_server.received[5:]
    assert len(updates) == 5
    for registration in registrations:
        db.session.refresh(registration)
        (update,) = [m for m in updates if m.recipients == (registration.email,)]
        assert registration.join_url and registration.join_url in text_of(update.message)


def test_a_refresh_token_goto_renews_during_a_pull_that_must_wait_is_kept(app, goto: FakeGoTo):
    import app.platforms.goto as goto_module
    from app.platforms.credentials import setting

    goto.rotate_refresh_tokens = True
    start = (utcnow() - timedelta(minutes=70)).replace(microsecond=0)
    event = make_event(starts_at=start, platform="goto", platform_webinar_id=WEBINAR_KEY)
    register_person(event, "ada@example.com")
    run_due_jobs()
    headers = bearer(make_user("admin"))
    app.test_client().post(f"/api/v1/events/{event.slug}/attendance/pull", headers=headers)

    # A new worker process (no access token in memory) renews the refresh token in the pull;
    # GoTo has no sessions yet, so the pull waits, and the old refresh token is void now.
    goto_module._tokens.clear()
    run_due_jobs()
    pull = db.session.scalar(select(AttendancePull).where(AttendancePull.event_id == event.id))
    assert pull is not None and pull.status == "pending"
    assert setting("GOTO_REFRESH_TOKEN") == goto.refresh_token

    goto_module._tokens.clear()
    goto.add_session(
        WEBINAR_KEY,
        "2030-01-01T10:00:00Z",
        "2030-01-01T11:00:00Z",
        [{"email": "ada@example.com", "attendanceTimeInSeconds": 1800}],
    )
    run_due_jobs(utcnow() + timedelta(hours=1))
    db.session.refresh(pull)
    assert pull.status == "done", pull.last_error
