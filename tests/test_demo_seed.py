"""`demo seed`: a marketer besides the admin and the reps, and a past webinar with its
recording, attendance applied, follow-ups routed to both reps and post-event emails in the
outbox; a second seed only prints the logins; nobody of another event is emailed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.services import by_slug, update_event
from app.followup.attendance import read_report
from app.followup.attendance.applying import apply_attendance
from app.followup.models import FollowUp
from app.mail.models import POST_EVENT_KINDS, OutboxMessage
from app.mail.post_event import queue_post_event_emails
from app.models import User
from app.registrations.models import Registration
from tests.builders import csrf_token, make_event, register_person

LOGIN = re.compile(r"^\s+(\w+)\s+(\S+@example\.com)\s+password: (\S+)$", re.MULTILINE)


def test_the_demo_has_a_past_webinar_both_reps_follow_up_and_a_marketer_who_can_log_in(
    app, runner, client
):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    logins = {role: (email, password) for role, email, password in LOGIN.findall(first.output)}
    assert set(logins) == {"admin", "marketer", "rep"}
    assert len(LOGIN.findall(first.output)) == 4

    past = by_slug("demo-past-webinar")
    assert past is not None and past.recording_url
    assert past.ends_at < utcnow() and past.attendance_imported_at is not None
    registrations = db.session.scalars(
        select(Registration).where(Registration.event_id == past.id)
    ).all()
    assert {r.attended_minutes > 0 for r in registrations} == {True, False}

    reps = {
        email
        for (email,) in db.session.execute(
            select(User.email)
            .join(FollowUp, FollowUp.rep_id == User.id)
            .where(FollowUp.event_id == past.id)
        )
    }
    assert reps == {"rita.rep@example.com", "emil.rep@example.com"}

    kinds = set(
        db.session.scalars(
            select(OutboxMessage.kind).where(
                OutboxMessage.event_id == past.id, OutboxMessage.kind.in_(POST_EVENT_KINDS)
            )
        )
    )
    assert kinds == {"post_event_thanks", "post_event_missed"}

    email, password = logins["marketer"]
    page = client.get("/login")
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303
    assert client.get("/admin/events/demo-past-webinar/post-event").status_code == 200

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert LOGIN.findall(again.output) == LOGIN.findall(first.output)
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    assert db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind.in_(POST_EVENT_KINDS))
    ) == len(registrations)


def test_seeding_a_demo_database_queues_no_post_event_email_for_another_event(app, runner):
    runner.invoke(args=["demo", "seed"])
    # An older demo without the past webinar, and a real event that ended an hour ago.
    past = by_slug("demo-past-webinar")
    assert past is not None
    db.session.delete(past)
    db.session.commit()
    other = make_event(
        slug="real-webinar", starts_at=(utcnow() - timedelta(hours=2)).replace(microsecond=0)
    )
    update_event(other, {"recording_url": "https://videos.example.com/real"})
    register_person(other, "customer@example.org")
    report = read_report(io.BytesIO(b"email,minutes\ncustomer@example.org,30\n"), other)
    # Applied long enough ago that the worker's next pass would thank them: the seed must not.
    apply_attendance(other, report, now=utcnow() - timedelta(hours=1, minutes=30))

    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Demo already seeded" in result.output
    assert by_slug("demo-past-webinar") is not None
    assert db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.recipient == "customer@example.org")
    ).all() == ["confirmation"]
    # …which the worker does, on its own schedule.
    assert queue_post_event_emails() == 1


def test_a_database_with_other_users_is_not_seeded(app, runner):
    from tests.builders import make_user

    make_user("admin", "owner@example.org")
    result = runner.invoke(args=["demo", "seed"])
    assert "demo not seeded" in result.output
    assert by_slug("demo-past-webinar") is None
    assert "password" not in result.output
