"""When routing runs (worker, command line, on demand), that it never duplicates, and what
reps are told."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.followup.due import due_events
from app.followup.models import FollowUp, RoutingRun
from app.followup.routing import route_followups
from app.followup.scoring import save_settings
from app.mail.models import OutboxMessage
from tests.builders import make_event, register_person
from tests.followup_fixtures import after, attend, followup_of, make_rep


def followup_count() -> int:
    return db.session.scalar(select(func.count()).select_from(FollowUp)) or 0


def test_routing_the_same_event_twice_creates_no_duplicates(app, event):
    make_rep("rep@example.com")
    for i in range(5):
        register_person(event, f"p{i}@firm{i}.example")

    first = route_followups(event.id, now=after(event))
    second = route_followups(event.id, now=after(event, 20))

    assert (first.created, second.created) == (5, 0)
    assert followup_count() == 5


def test_a_second_run_routes_only_the_registrants_the_first_did_not_see(app, event):
    make_rep("rep@example.com")
    register_person(event, "early@firm.example")
    route_followups(event.id, now=after(event))
    register_person(event, "late@firm2.example")

    result = route_followups(event.id, now=after(event, 30))

    assert result.created == 1
    assert followup_count() == 2


def test_the_command_line_routes_an_event_by_slug(app, runner, event):
    make_rep("rep@example.com")
    register_person(event, "p@firm.example")
    event.starts_at, event.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
    db.session.commit()

    first = runner.invoke(args=["followups", "route", event.slug])
    second = runner.invoke(args=["followups", "route", event.slug])
    unknown = runner.invoke(args=["followups", "route", "no-such-event"])

    assert first.exit_code == 0, first.output
    assert "created 1 follow-ups" in first.output
    assert "rep@example.com: 1" in first.output
    assert "created 0 follow-ups" in second.output
    assert unknown.exit_code != 0
    assert "no event with the slug" in unknown.output
    assert followup_count() == 1


def past_event(slug: str = "past-webinar"):  # type: ignore[no-untyped-def]
    """An event that took place two hours ago."""
    starts = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
    return make_event(slug=slug, starts_at=starts, duration_minutes=60)


def test_the_worker_routes_an_ended_event_once_its_attendance_is_in(app, runner):
    event = past_event()
    make_rep("rep@example.com")
    register_person(event, "came@firm.example")
    register_person(event, "skipped@firm2.example")
    save_settings({"route_after_minutes": 24 * 60})
    db.session.commit()

    before = runner.invoke(args=["worker", "--burst"])
    assert before.exit_code == 0, before.output
    assert followup_count() == 0

    attend(event, {"came@firm.example": 55})
    after_import = runner.invoke(args=["worker", "--burst"])
    again = runner.invoke(args=["worker", "--burst"])

    assert after_import.exit_code == 0, after_import.output
    assert again.exit_code == 0, again.output
    assert followup_count() == 2
    assert followup_of("came@firm.example").attended_minutes == 55
    runs = db.session.scalars(select(RoutingRun.trigger)).all()
    assert runs == ["worker"]


def test_without_attendance_the_worker_routes_a_set_time_after_the_end(app, event):
    make_rep("rep@example.com")
    register_person(event, "p@firm.example")
    save_settings({"route_after_minutes": 120})
    db.session.commit()

    assert due_events(event.ends_at + timedelta(minutes=119)) == []
    assert due_events(event.ends_at + timedelta(minutes=120)) == [event]
    route_followups(event.id, trigger="worker", now=event.ends_at + timedelta(minutes=120))
    assert due_events(event.ends_at + timedelta(minutes=180)) == []


def test_each_rep_gets_one_digest_email_per_batch(app, event):
    make_rep("rita@example.com", name="Rita Rep")
    make_rep("emil@example.com", name="Emil Rep")
    for i in range(7):
        register_person(event, f"p{i}@firm{i}.example", company=f"Firm {i}")

    route_followups(event.id, now=after(event))
    route_followups(event.id, now=after(event, 20))

    digests = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "followup_digest")
    ).all()
    assert sorted(m.recipient for m in digests) == ["emil@example.com", "rita@example.com"]
    by_rep = {m.recipient: m for m in digests}
    assert by_rep["rita@example.com"].subject == "4 new follow-ups: Launch webinar"
    body = by_rep["emil@example.com"].content.decode()
    assert "3 leads came to you" in body
    assert "http://testserver/followups" in body


def test_attendees_are_routed_before_no_shows_and_take_the_free_capacity(app, event):
    rep = make_rep("rep@example.com", capacity=2)
    register_person(event, "noshow1@a.example")
    register_person(event, "noshow2@b.example")
    register_person(event, "came1@c.example")
    register_person(event, "came2@d.example")
    attend(event, {"came1@c.example": 50, "came2@d.example": 40})

    route_followups(event.id, now=after(event))

    assert followup_of("came1@c.example").rep_id == rep.id
    assert followup_of("came2@d.example").rep_id == rep.id
    assert followup_of("noshow1@a.example").rep_id is None
    assert followup_of("came1@c.example").priority == "hot"
    assert followup_of("noshow1@a.example").priority == "cold"


def test_attendance_that_arrives_after_routing_updates_the_untouched_followups(app, runner):
    event = past_event()
    rep = make_rep("rep@example.com")
    register_person(event, "came@firm.example")
    register_person(event, "worked@firm2.example")
    save_settings({"route_after_minutes": 30})
    db.session.commit()
    assert runner.invoke(args=["worker", "--burst"]).exit_code == 0
    assert followup_of("came@firm.example").priority == "cold"
    from app.followup.services import update_followup

    update_followup(followup_of("worked@firm2.example").id, rep, {"status": "contacted"})

    attend(event, {"came@firm.example": 60, "worked@firm2.example": 60})
    assert runner.invoke(args=["worker", "--burst"]).exit_code == 0

    came = followup_of("came@firm.example")
    assert (came.priority, came.attended_minutes, came.rep_id) == ("hot", 60, rep.id)
    # A follow-up the rep already acted on keeps what the rep saw.
    assert followup_of("worked@firm2.example").priority == "cold"
    assert followup_count() == 2


def test_two_routing_runs_at_the_same_moment_create_each_follow_up_once(app, event):
    import threading

    for i in range(3):
        make_rep(f"rep{i}@example.com")
    for i in range(30):
        register_person(event, f"p{i}@firm{i}.example")
    event_id, moment = event.id, after(event)
    results: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def route() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(route_followups(event_id, now=moment).created)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=route) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(results) == [0, 30]
    db.session.rollback()  # leave the snapshot read before the threads wrote
    assert followup_count() == 30
