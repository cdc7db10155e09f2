"""Reminders: 24 hours and 1 hour before the start, to confirmed registrants only, never for a
moment that had passed when they registered, never after a cancellation, each one once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.services import update_event
from app.mail.letters import write_unwritten
from app.mail.models import OutboxMessage
from app.mail.reminders import queue_due_reminders
from app.registrations import services
from app.worker import run_due_jobs
from tests.builders import make_event, register_person

HOUR = timedelta(hours=1)


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


@pytest.fixture
def start():
    return (utcnow() + timedelta(days=3)).replace(microsecond=0)


def reminders():  # type: ignore[no-untyped-def]
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "reminder").order_by(OutboxMessage.id)
    ).all()


def test_confirmed_registrants_are_reminded_a_day_and_an_hour_before_the_start(
    app, smtp_server, start
):
    event = make_event(starts_at=start, capacity=1)
    register_person(event, "ada@example.com", now=start - 48 * HOUR)
    register_person(event, "bob@example.com", now=start - 47 * HOUR)  # waitlisted: no reminder
    run_due_jobs()
    smtp_server.received.clear()

    assert queue_due_reminders(now=start - 25 * HOUR) == 0
    assert queue_due_reminders(now=start - 24 * HOUR) == 1
    assert queue_due_reminders(now=start - 23 * HOUR) == 0  # once
    run_due_jobs(now=start - 24 * HOUR)
    (day_before,) = smtp_server.to("ada@example.com")
    assert day_before["Subject"] == "Starts in 24 hours: Launch webinar"
    text = day_before.get_body(preferencelist=("plain",)).get_content()
    assert "https://meet.example.com/launch" in text
    assert not [p for p in day_before.walk() if p.get_content_type() == "text/calendar"]

    assert queue_due_reminders(now=start - HOUR) == 1
    run_due_jobs(now=start - HOUR)
    _, hour_before = smtp_server.to("ada@example.com")
    assert hour_before["Subject"] == "Starts in 1 hour: Launch webinar"
    assert smtp_server.to("bob@example.com") == []
    assert queue_due_reminders(now=start - HOUR / 2) == 0
    assert [r.status for r in reminders()] == ["sent", "sent"]


def test_a_late_registrant_gets_only_the_reminders_still_ahead_of_them(app, start):
    event = make_event(starts_at=start)
    register_person(event, "early@example.com", now=start - 48 * HOUR)
    register_person(event, "evening@example.com", now=start - 5 * HOUR)
    register_person(event, "last-minute@example.com", now=start - HOUR / 2)

    queue_due_reminders(now=start - 24 * HOUR)
    queue_due_reminders(now=start - HOUR)
    queue_due_reminders(now=start - HOUR / 4)
    got = sorted((r.recipient, r.dedupe_key.split(":")[3]) for r in reminders())
    assert got == [
        ("early@example.com", "1440"),
        ("early@example.com", "60"),
        ("evening@example.com", "60"),
    ]


def test_a_late_scan_sends_only_the_latest_reminder_due(app, start):
    event = make_event(starts_at=start)
    register_person(event, "ada@example.com", now=start - 48 * HOUR)
    assert queue_due_reminders(now=start - HOUR / 2) == 1
    write_unwritten(now=start - HOUR / 2)
    (reminder,) = reminders()
    assert reminder.dedupe_key.split(":")[3] == "60"  # not the day-before one
    assert reminder.subject == "Starts in 30 minutes: Launch webinar"  # the time really left
    assert queue_due_reminders(now=start + HOUR) == 0  # after the start: nothing


def test_no_reminder_after_a_cancellation_even_when_it_was_already_queued(app, smtp_server, start):
    event = make_event(starts_at=start)
    ada = register_person(event, "ada@example.com", now=start - 48 * HOUR)
    register_person(event, "bob@example.com", now=start - 48 * HOUR)
    run_due_jobs()
    smtp_server.received.clear()

    assert queue_due_reminders(now=start - 24 * HOUR) == 2
    services.cancel(ada.id)
    run_due_jobs(now=start - 24 * HOUR)
    assert [m["Subject"] for m in smtp_server.to("ada@example.com")] == [
        "Your registration is cancelled: Launch webinar"
    ]
    assert len(smtp_server.to("bob@example.com")) == 1
    skipped = [r for r in reminders() if r.recipient == "ada@example.com"]
    assert [r.status for r in skipped] == ["skipped"]

    assert queue_due_reminders(now=start - HOUR) == 1  # Bob's only


def test_a_reminder_queued_before_the_event_moved_is_not_sent_and_the_new_time_gets_its_own(
    app, smtp_server, start
):
    event = make_event(starts_at=start)
    register_person(event, "ada@example.com", now=start - 48 * HOUR)
    queue_due_reminders(now=start - 24 * HOUR)
    later = start + 48 * HOUR
    update_event(event, {"starts_at": later})
    run_due_jobs(now=start - 24 * HOUR)
    subjects = [m["Subject"] for m in smtp_server.to("ada@example.com")]
    assert subjects == ["You're registered: Launch webinar", "Updated: Launch webinar"]
    assert [r.status for r in reminders()] == ["skipped"]

    assert queue_due_reminders(now=later - 24 * HOUR) == 1
    assert reminders()[-1].event_starts_at == later


def test_reminders_follow_the_events_own_lead_times(app, start):
    event = make_event(starts_at=start)
    event.reminder_minutes = [10080, 15]
    db.session.commit()
    register_person(event, "ada@example.com", now=start - 10 * 24 * HOUR)
    assert queue_due_reminders(now=start - 7 * 24 * HOUR - HOUR) == 0
    assert queue_due_reminders(now=start - 7 * 24 * HOUR) == 1
    write_unwritten(now=start - 7 * 24 * HOUR)
    assert queue_due_reminders(now=start - 24 * HOUR) == 0
    assert queue_due_reminders(now=start - timedelta(minutes=15)) == 1
    write_unwritten(now=start - timedelta(minutes=15))
    assert [r.subject for r in reminders()] == [
        "Starts in 7 days: Launch webinar",
        "Starts in 15 minutes: Launch webinar",
    ]
