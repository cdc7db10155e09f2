"""Weighted round-robin stays fair over thousands of leads, and when reps fill up, leave,
join or come back."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.followup.models import FollowUp, RoutingRule
from app.followup.routing import route_followups
from app.followup.rules import save_rule
from tests.builders import make_event, register_person
from tests.followup_fixtures import after, bulk_registrants, followup_of, make_rep, set_rep


def shares(event_id: int) -> Counter[int]:
    return Counter(db.session.scalars(select(FollowUp.rep_id).where(FollowUp.event_id == event_id)))


def test_three_thousand_leads_are_shared_exactly_by_weight(app, event):
    reps = [make_rep(f"rep{w}@example.com", weight=w) for w in (1, 2, 3)]
    bulk_registrants(event, 3000)

    route_followups(event.id, now=after(event))

    assert shares(event.id) == {reps[0].id: 500, reps[1].id: 1000, reps[2].id: 1500}


def test_shares_stay_within_one_lead_of_the_weights_at_every_point(app, event):
    reps = [make_rep(f"rep{w}@example.com", weight=w) for w in (2, 3, 5)]
    bulk_registrants(event, 1000)

    route_followups(event.id, now=after(event))

    order = db.session.scalars(
        select(FollowUp.rep_id).where(FollowUp.event_id == event.id).order_by(FollowUp.id)
    ).all()
    seen: Counter[int] = Counter()
    for turn, rep_id in enumerate(order, start=1):
        seen[rep_id] += 1
        for rep, weight in zip(reps, (2, 3, 5), strict=True):
            assert abs(seen[rep.id] - turn * weight / 10) < 1, (turn, rep.email)


def test_a_rep_at_capacity_is_passed_over_and_why_says_so(app, event):
    small = make_rep("small@example.com", name="Small Desk", capacity=5)
    big = make_rep("big@example.com", name="Big Desk")
    bulk_registrants(event, 40)

    route_followups(event.id, now=after(event))

    counts = shares(event.id)
    assert counts == {small.id: 5, big.id: 35}
    late = db.session.scalars(
        select(FollowUp).where(FollowUp.rep_id == big.id).order_by(FollowUp.id.desc()).limit(1)
    ).one()
    assert "passing over Small Desk (at capacity with 5 follow-ups open)" in late.why


def test_closed_followups_free_capacity_for_the_next_event(app, event):
    from app.followup.services import update_followup

    small = make_rep("small@example.com", capacity=2)
    make_rep("big@example.com")
    bulk_registrants(event, 4)
    route_followups(event.id, now=after(event))
    for followup in db.session.scalars(select(FollowUp).where(FollowUp.rep_id == small.id)):
        update_followup(followup.id, small, {"status": "converted"})

    second = make_event(slug="second", starts_at=event.starts_at + timedelta(days=1))
    bulk_registrants(second, 4)
    route_followups(second.id, now=after(second))

    assert shares(second.id)[small.id] == 2


def test_an_out_of_office_rep_gets_nothing_and_no_burst_on_return(app):
    first = make_event(slug="first")
    away = make_rep("away@example.com", name="Away Rep", out_of_office_until=first.ends_at.date())
    others = [make_rep(f"rep{i}@example.com") for i in range(2)]
    bulk_registrants(first, 300)

    route_followups(first.id, now=after(first))

    assert shares(first.id)[away.id] == 0
    assert "passing over Away Rep (out of office until" in followup_of_any(first.id).why

    # Back from leave: the next event is shared evenly from the first lead on; the time away
    # earned no credit.
    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    bulk_registrants(second, 30)
    route_followups(second.id, now=after(second))

    order = db.session.scalars(
        select(FollowUp.rep_id).where(FollowUp.event_id == second.id).order_by(FollowUp.id)
    ).all()
    assert Counter(order) == {away.id: 10, others[0].id: 10, others[1].id: 10}
    # Never two leads in a row to the returning rep.
    assert all(not (a == b == away.id) for a, b in zip(order, order[1:], strict=False))


def test_a_rep_who_joins_the_pool_gets_a_fair_share_not_a_catch_up_burst(app):
    first = make_event(slug="first")
    veterans = [make_rep(f"vet{i}@example.com") for i in range(2)]
    save_rule(None, {"name": "Pool", "members": [(rep.id, 1) for rep in veterans]})
    bulk_registrants(first, 101)
    route_followups(first.id, now=after(first))

    newcomer = make_rep("new@example.com")
    rule = db.session.scalars(select(RoutingRule)).one()
    save_rule(rule, {"name": "Pool", "members": [(r.id, 1) for r in (*veterans, newcomer)]})
    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    bulk_registrants(second, 9)
    route_followups(second.id, now=after(second))

    counts = shares(second.id)
    assert counts[newcomer.id] == 3
    assert counts[veterans[0].id] == counts[veterans[1].id] == 3


def test_a_deactivated_rep_gets_no_leads_and_the_rest_share_evenly(app, event):
    leaving = make_rep("leaving@example.com")
    staying = [make_rep(f"rep{i}@example.com") for i in range(2)]
    set_rep(leaving, active=False)
    bulk_registrants(event, 20)

    route_followups(event.id, now=after(event))

    assert shares(event.id) == {staying[0].id: 10, staying[1].id: 10}


def test_round_robin_continues_across_events_instead_of_restarting(app):
    a = make_rep("a@example.com")
    b = make_rep("b@example.com")
    firsts = []
    for n in range(4):
        event = make_event(slug=f"single-{n}")
        register_person(event, f"only{n}@firm{n}.example")
        route_followups(event.id, now=after(event))
        firsts.append(followup_of(f"only{n}@firm{n}.example").rep_id)
    # One lead per event: a restart would give every one of them to the same rep.
    assert firsts == [a.id, b.id, a.id, b.id]


def followup_of_any(event_id: int) -> FollowUp:
    return db.session.scalars(
        select(FollowUp).where(FollowUp.event_id == event_id).order_by(FollowUp.id).limit(1)
    ).one()
