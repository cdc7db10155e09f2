"""Attendance from Zoom, nobody touching a file: `webinar.ended` (or a request, or the
scheduled end passing) makes the worker pull every page of the participants report and the
Q&A, apply them as an uploaded report would be, and route the follow-up in the same pass."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.db import db, utcnow
from app.followup.models import FollowUp
from app.platforms.models import AttendancePull
from app.platforms.registry import connector
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.fake_zoom import FakeZoom
from tests.followup_fixtures import followup_of, make_rep
from tests.zoom_fixtures import WEBINAR_ID, app_config, zoom_fixture

__all__ = ["app_config", "zoom_fixture"]


def _ended_event(minutes_ago: int = 10):  # type: ignore[no-untyped-def]
    start = (utcnow() - timedelta(minutes=60 + minutes_ago)).replace(microsecond=0)
    return make_event(starts_at=start, platform="zoom", platform_webinar_id=WEBINAR_ID)


def _pull(event) -> AttendancePull | None:  # type: ignore[no-untyped-def]
    return db.session.scalar(
        select(AttendancePull)
        .where(AttendancePull.event_id == event.id)
        .execution_options(populate_existing=True)
    )


def test_webinar_ended_leads_to_applied_attendance_and_routed_followups_in_one_worker_pass(
    app, client, runner, zoom: FakeZoom
):
    make_rep("rita@example.com")
    make_rep("sam@example.com")
    # Scheduled to run 20 minutes more, it ended a minute ago: follow-up does not wait.
    event = _ended_event(minutes_ago=-20)
    for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
        register_person(event, email)
    # Ada dropped out and came back: two rows, one attendee. Cy never came.
    zoom.joined(WEBINAR_ID, "ada@example.com", 1200, leave_time="2030-01-01T10:20:00Z")
    zoom.joined(WEBINAR_ID, "ADA@example.com", 1800, join_time="2030-01-01T10:25:00Z")
    zoom.joined(WEBINAR_ID, "bob@example.com", 600)
    zoom.asked(WEBINAR_ID, "ada@example.com", "Pricing?", "Does it do SSO?")

    ended_at = (utcnow() - timedelta(minutes=1)).replace(microsecond=0)
    body, headers = zoom.ended(WEBINAR_ID, end_time=f"{ended_at:%Y-%m-%dT%H:%M:%SZ}")
    answer = client.post("/zoom/webhook", data=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert db.session.scalar(select(FollowUp.id)) is None

    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    by_email = {r.email: r for r in db.session.scalars(select(Registration))}
    assert by_email["ada@example.com"].attended_minutes == 50
    assert by_email["ada@example.com"].questions_asked == 2
    assert by_email["bob@example.com"].attended_minutes == 10
    assert by_email["cy@example.com"].attended_minutes == 0  # a no-show
    # Each is on a rep's list (the same company's leads go to the same rep).
    assert all(followup_of(email, event).rep_id is not None for email in by_email)
    pull = _pull(event)
    assert pull is not None and pull.status == "done" and pull.reason == "ended"
    assert pull.ended_at == ended_at
    # Speed to lead is measured from that moment.
    db.session.refresh(event)
    assert event.ended_at == ended_at


def test_a_report_over_many_pages_is_read_whole(app, zoom: FakeZoom):
    for n in range(1050):
        zoom.joined(WEBINAR_ID, f"viewer{n}@example.com", 60 * (n % 50 + 1))
    zoom.joined(WEBINAR_ID, "", 900, name="Guest without an account")

    platform = connector("zoom")
    assert platform is not None
    report = platform.fetch_attendance(WEBINAR_ID)

    assert len(report.attendees) == 1050 and report.rows == 1051
    assert report.attendees["viewer49@example.com"].minutes == 50
    assert any("no email" in warning for warning in report.warnings)
    pages = [call for call in zoom.calls if call[1].endswith("/participants")]
    assert len(pages) == 4  # 300 + 300 + 300 + 151


def test_without_a_webhook_the_pull_comes_a_set_time_after_the_scheduled_end(app, zoom: FakeZoom):
    event = _ended_event(minutes_ago=5)
    register_person(event, "ada@example.com")
    zoom.joined(WEBINAR_ID, "ada@example.com", 1800)

    run_due_jobs()
    assert _pull(event) is None

    run_due_jobs(event.ends_at + timedelta(minutes=61))
    pull = _pull(event)
    assert pull is not None and pull.status == "done" and pull.reason == "schedule"
    assert followup_of("ada@example.com", event).registration_id is not None


def test_an_empty_report_is_asked_again_later(app, zoom: FakeZoom):
    event = _ended_event()
    register_person(event, "ada@example.com")
    body, headers = zoom.ended(WEBINAR_ID)
    app.test_client().post("/zoom/webhook", data=body, headers=headers)

    run_due_jobs()
    pull = _pull(event)
    assert pull is not None and pull.status == "pending" and pull.attempts == 1
    assert "nobody in it yet" in (pull.last_error or "")

    zoom.joined(WEBINAR_ID, "ada@example.com", 1800)
    run_due_jobs(utcnow() + timedelta(hours=1))
    assert _pull(event).status == "done"  # type: ignore[union-attr]
    assert db.session.get(Registration, 1).attended_minutes == 30  # type: ignore[union-attr]


def test_a_pull_can_be_asked_for_through_the_api(app, client, zoom: FakeZoom):
    from tests.builders import bearer, make_user

    event = _ended_event()
    register_person(event, "ada@example.com")
    zoom.joined(WEBINAR_ID, "ada@example.com", 1800)
    headers = bearer(make_user("marketer"))

    answer = client.post(f"/api/v1/events/{event.slug}/attendance/pull", headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json["status"] == "pending"
    run_due_jobs()
    assert _pull(event).status == "done"  # type: ignore[union-attr]
    assert followup_of("ada@example.com", event) is not None


def test_a_pull_is_refused_for_an_event_without_a_platform_or_a_connection(
    app, client, zoom: FakeZoom
):
    from tests.builders import bearer, make_user

    plain = make_event()
    headers = bearer(make_user("admin"))
    answer = client.post(f"/api/v1/events/{plain.slug}/attendance/pull", headers=headers)
    assert answer.status_code == 409
    assert "not linked to a webinar platform" in answer.json["error"]["message"]

    linked = make_event(slug="zoom-one", platform="zoom", platform_webinar_id=WEBINAR_ID)
    app.config["ZOOM_CLIENT_SECRET"] = None
    answer = client.post(f"/api/v1/events/{linked.slug}/attendance/pull", headers=headers)
    assert answer.status_code == 409
    assert "Zoom is not connected" in answer.json["error"]["message"]
    assert answer.json["error"]["fields"] == {"platform": "Zoom is not connected."}
    rep = bearer(make_user("rep"))
    assert (
        client.post(f"/api/v1/events/{linked.slug}/attendance/pull", headers=rep).status_code == 403
    )


RETRY_BUTTON = re.compile(r'<form method="post" action="([^"]+/attendance/pull/retry)"')


def _failed_pull(app, zoom: FakeZoom):  # type: ignore[no-untyped-def]
    """An ended event whose pull the worker gave up on: Zoom's report stayed empty."""
    app.config["PLATFORM_MAX_ATTEMPTS"] = 1
    event = _ended_event()
    register_person(event, "ada@example.com")
    body, headers = zoom.ended(WEBINAR_ID)
    app.test_client().post("/zoom/webhook", data=body, headers=headers)
    run_due_jobs()
    pull = _pull(event)
    assert pull is not None and pull.status == "failed"
    return event


def test_staff_retry_a_failed_pull_from_the_event_page(app, client, zoom: FakeZoom):
    event = _failed_pull(app, zoom)
    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/{event.slug}").text
    assert "Could not be pulled" in page and "nobody in it yet" in page
    match = RETRY_BUTTON.search(page)
    assert match, "the event page offers no retry"

    zoom.joined(WEBINAR_ID, "ada@example.com", 1800)
    answer = client.post(match.group(1), data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/admin/events/{event.slug}")
    assert "pulled again" in client.get(answer.headers["Location"]).text
    assert _pull(event).status == "pending"  # type: ignore[union-attr]

    run_due_jobs()
    assert _pull(event).status == "done"  # type: ignore[union-attr]
    assert db.session.get(Registration, 1).attended_minutes == 30  # type: ignore[union-attr]
    # Nothing is left to retry, and the page offers no retry any more.
    page = client.get(f"/admin/events/{event.slug}").text
    assert not RETRY_BUTTON.search(page)
    token = csrf_token(page)
    again = client.post(match.group(1), data={"csrf_token": token}, follow_redirects=True)
    assert "nothing to retry" in again.text
    assert _pull(event).status == "done"  # type: ignore[union-attr]


def test_a_retry_needs_the_csrf_token_and_a_staff_role(app, client, zoom: FakeZoom):
    event = _failed_pull(app, zoom)
    path = f"/admin/events/{event.slug}/attendance/pull/retry"
    log_in(client, make_user("marketer"))
    assert client.post(path).status_code == 400
    assert _pull(event).status == "failed"  # type: ignore[union-attr]

    rep = app.test_client()
    log_in(rep, make_user("rep"))
    token = csrf_token(rep.get("/followups").text)
    assert rep.post(path, data={"csrf_token": token}).status_code == 403
    assert _pull(event).status == "failed"  # type: ignore[union-attr]
