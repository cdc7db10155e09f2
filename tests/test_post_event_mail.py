"""After the event: each attendee gets one thank-you and each confirmed no-show one "sorry we
missed you", both with the recording link, a set time after attendance is applied; once, even
when attendance is applied twice or a worker dies mid-batch; never to someone who opted out,
nor for an event whose post-event emails are off or that ended more than a week ago."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.services import update_event
from app.mail.delivery import claim, deliver_due
from app.mail.models import POST_EVENT_KINDS, OutboxMessage
from app.mail.post_event import queue_post_event_emails
from app.registrations.consent import withdraw_lead_consent
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.followup_fixtures import attend

RECORDING = "https://videos.example.com/launch-recording"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


@pytest.fixture
def webinar(app, smtp_server):  # type: ignore[no-untyped-def]
    """A webinar that ended ten minutes ago, with a recording and a call to action, three
    confirmed registrants, and their confirmations already sent."""
    starts = (utcnow() - timedelta(minutes=70)).replace(microsecond=0)
    event = make_event(starts_at=starts)
    update_event(
        event,
        {
            "recording_url": RECORDING,
            "cta_url": "https://example.com/book-a-demo",
            "cta_label": "Book a demo",
        },
    )
    for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
        register_person(event, email)
    run_due_jobs()
    smtp_server.received.clear()
    return event


def post_event_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind.in_(POST_EVENT_KINDS))
            .order_by(OutboxMessage.id)
        )
    )


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("plain",)).get_content()


def test_attendees_are_thanked_and_no_shows_missed_each_once_with_the_recording(
    app, smtp_server, webinar
):
    attend(webinar, {"ada@example.com": 42, "bob@example.com": 5})
    applied = utcnow()
    run_due_jobs(now=applied + timedelta(minutes=61))

    (ada,) = smtp_server.to("ada@example.com")
    (bob,) = smtp_server.to("bob@example.com")
    (cy,) = smtp_server.to("cy@example.com")
    assert ada["Subject"] == "Thank you for joining Launch webinar"
    assert bob["Subject"] == "Thank you for joining Launch webinar"
    assert cy["Subject"] == "Sorry we missed you at Launch webinar"
    for message in (ada, cy):
        text = text_of(message)
        # The recording through the registrant's own tracked link, which counts the view.
        (watch,) = re.findall(r"Watch the recording: (\S+)", text)
        assert watch.startswith(f"http://testserver/e/{webinar.slug}/watch/")
        assert "Book a demo: https://example.com/book-a-demo" in text
        html = message.get_body(preferencelist=("html",)).get_content()
        assert f'href="{watch}"' in html and "Book a demo" in html
    assert "Hi Ada," in text_of(ada)

    run_due_jobs(now=applied + timedelta(hours=3))
    assert len(smtp_server.received) == 3


def test_the_emails_go_at_the_next_pass_after_attendance_by_default(app, smtp_server, webinar):
    attend(webinar, {"ada@example.com": 42})
    assert queue_post_event_emails(now=utcnow()) == 3


def test_a_set_delay_after_attendance_is_honoured(app, smtp_server, webinar):
    app.config["POST_EVENT_DELAY_MINUTES"] = 60
    attend(webinar, {"ada@example.com": 42})
    applied = utcnow()
    assert queue_post_event_emails(now=applied + timedelta(minutes=59)) == 0
    assert queue_post_event_emails(now=applied + timedelta(minutes=61)) == 3


def test_applying_attendance_twice_sends_nobody_a_second_email(app, smtp_server, webinar):
    attend(webinar, {"ada@example.com": 42})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    assert len(smtp_server.received) == 3

    # A corrected report: Cy was there after all. She has had her email; nobody gets another.
    attend(webinar, {"ada@example.com": 42, "cy@example.com": 20})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    run_due_jobs(now=utcnow() + timedelta(minutes=120))
    assert len(smtp_server.received) == 3
    assert len(post_event_rows()) == 3


def test_a_worker_that_dies_mid_batch_leaves_each_email_sent_once(app, smtp_server, webinar):
    attend(webinar, {"ada@example.com": 42})
    later = utcnow() + timedelta(minutes=61)
    assert queue_post_event_emails(now=later) == 3
    run_due_jobs(now=later)  # writes them (and sends them): start over with a dying worker
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.kind.in_(POST_EVENT_KINDS))
        .values(status="pending", sent_at=None)
    )
    db.session.commit()
    smtp_server.received.clear()

    _, abandoned = claim(2, later)  # a worker claims two, then dies before sending them
    assert len(abandoned) == 2
    assert deliver_due(now=later).sent == 1  # the third; the other two wait for the lease
    assert queue_post_event_emails(now=later) == 0  # the next pass queues nothing new
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    assert deliver_due(now=later + lease + timedelta(seconds=1)).sent == 2
    assert sorted(r.recipients[0] for r in smtp_server.received) == [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    assert {row.status for row in post_event_rows()} == {"sent"}


def test_an_unsubscribed_lead_gets_none_even_when_already_queued(app, smtp_server, webinar):
    attend(webinar, {"ada@example.com": 42, "bob@example.com": 9})
    bob = webinar_registration("bob@example.com")
    withdraw_lead_consent(bob.lead_id, "link")
    later = utcnow() + timedelta(minutes=61)
    assert queue_post_event_emails(now=later) == 2  # Ada and Cy
    # Cy withdraws after hers was queued: the worker skips it when it comes to send it.
    withdraw_lead_consent(webinar_registration("cy@example.com").lead_id, "manage")
    run_due_jobs(now=later)

    assert [r.recipients[0] for r in smtp_server.received] == ["ada@example.com"]
    (skipped,) = [row for row in post_event_rows() if row.recipient == "cy@example.com"]
    assert skipped.status == "skipped"


def test_a_withdrawn_consent_stops_the_next_post_event_email(app, client, smtp_server, webinar):
    dee = register_person(webinar, "dee@example.com", consent_marketing=True)
    run_due_jobs()
    smtp_server.received.clear()
    path = "/api/v1/people/dee@example.com/consent/withdraw"
    assert client.post(path, headers=bearer(make_user("marketer"))).status_code == 200

    attend(webinar, {"ada@example.com": 42, "dee@example.com": 30})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))

    assert smtp_server.to("dee@example.com") == []
    assert len(smtp_server.to("ada@example.com")) == 1
    assert dee.id not in {row.registration_id for row in post_event_rows()}


def test_an_event_with_post_event_emails_off_sends_none(app, smtp_server, webinar):
    update_event(webinar, {"post_event_emails": False})
    attend(webinar, {"ada@example.com": 42})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    run_due_jobs(now=utcnow() + timedelta(days=2))
    assert smtp_server.received == []
    assert post_event_rows() == []


def test_without_attendance_everyone_confirmed_gets_the_recording_after_the_fallback(
    app, smtp_server, webinar
):
    ended = webinar.ends_at
    assert queue_post_event_emails(now=ended + timedelta(hours=23)) == 0
    run_due_jobs(now=ended + timedelta(hours=24, minutes=1))
    subjects = {r.recipients[0]: r.message["Subject"] for r in smtp_server.received}
    assert subjects == {
        "ada@example.com": "The recording of Launch webinar",
        "bob@example.com": "The recording of Launch webinar",
        "cy@example.com": "The recording of Launch webinar",
    }
    # Attendance arriving later sends nobody a second email.
    attend(webinar, {"ada@example.com": 42})
    run_due_jobs(now=utcnow() + timedelta(days=1, hours=2))
    assert len(smtp_server.received) == 3


def test_an_event_that_ended_more_than_a_week_ago_is_never_followed_up(app, smtp_server):
    starts = (utcnow() - timedelta(days=9)).replace(microsecond=0)
    event = make_event(slug="old-webinar", starts_at=starts)
    update_event(event, {"recording_url": RECORDING})
    register_person(event, "ada@example.com")
    attend(event, {"ada@example.com": 42})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    assert [m["Subject"] for m in smtp_server.to("ada@example.com")] == [
        "You're registered: Launch webinar"
    ]


def webinar_registration(email: str) -> Registration:
    return db.session.scalars(select(Registration).where(Registration.email == email)).one()


def test_following_the_emailed_recording_link_counts_an_on_demand_view(
    app, client, smtp_server, webinar
):
    attend(webinar, {"ada@example.com": 42})
    run_due_jobs(now=utcnow() + timedelta(minutes=61))
    (cy,) = smtp_server.to("cy@example.com")
    (watch,) = re.findall(r"Watch the recording: (\S+)", text_of(cy))

    followed = client.get(watch.removeprefix("http://testserver"))
    assert followed.status_code == 303
    assert followed.headers["Location"] == RECORDING
    cy_registration = db.session.scalars(
        select(Registration).where(Registration.email == "cy@example.com")
    ).one()
    assert cy_registration.on_demand_views == 1
