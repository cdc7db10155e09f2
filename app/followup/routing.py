"""Routing an event's follow-up: the one service that creates each registrant's FollowUp, scored,
with the rep the router chose, and tells each rep what they got.

The worker, the console, the API and the command line all call `route_followups`. Routing is
idempotent: a lead gets one follow-up per event (a unique key), so a second run only picks up
registrants the first did not see. Which rep a lead goes to is `app.followup.router`'s
decision; escalation and the worker's pass live in `escalation` and `due`.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, func, insert, or_, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.db import db, utcnow, writing
from app.events.models import Event
from app.followup import email, signals
from app.followup.models import PRIORITY_RANK, FollowUp, RoutingRun
from app.followup.router import Router, lock_routing
from app.followup.rules import LeadFacts, email_domain, segment_of
from app.followup.scoring import Engagement, FollowUpSettings, Score, due_at, load_settings, score
from app.models import User
from app.refusals import Refusal
from app.registrations.models import ON_DEMAND, WALK_IN, Lead, Registration
from app.registrations.questions import routing_facts

# Registrants who held or waited for a seat, and walk-ins (they were there); cancelled and
# unpaid ones are not followed up.
FOLLOWED_UP_REGISTRATIONS = ("confirmed", "waitlisted", WALK_IN, ON_DEMAND)
_RACE_RETRIES = 3


class RoutingRefused(Refusal):
    """Routing cannot run for this event (yet); the message says why."""

    status = 409


@dataclass
class RoutingResult:
    created: int
    by_rep: dict[str, int]
    unassigned: int = 0
    run_id: int | None = None


def route_followups(
    event_id: int,
    *,
    trigger: str = "console",
    actor_id: int | None = None,
    now: datetime | None = None,
) -> RoutingResult:
    """Create the missing follow-ups for an event's registrants and assign each to a rep.

    Commits; a second call creates nothing for the leads already routed.
    """
    now = now or utcnow()
    for _attempt in range(_RACE_RETRIES):
        try:
            with writing():
                lock_routing()
                return _route_event(event_id, trigger, actor_id, now)
        except IntegrityError:
            # Another process created some of these follow-ups (or company rows) first; the
            # retry sees them and leaves them alone.
            continue
    raise RuntimeError("routing kept colliding with concurrent writes")


def _route_event(event_id: int, trigger: str, actor_id: int | None, now: datetime) -> RoutingResult:
    event = db.session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise RoutingRefused("This event does not exist.")
    if event.status == "cancelled":
        raise RoutingRefused("This event was cancelled; its registrants are not followed up.")
    if now < event.over_at:
        raise RoutingRefused("This event has not ended yet; follow-up is routed after it ends.")
    settings = load_settings()
    _rescore_untouched(event, settings, now)
    campaign = event.campaign.name if event.campaign is not None else None
    rows = db.session.execute(
        select(
            Registration.id,
            Registration.lead_id,
            Registration.attended_minutes,
            Registration.checked_in_at.is_not(None).label("checked_in"),
            Registration.on_demand_at.is_not(None).label("on_demand"),
            Registration.questions_asked,
            # As stored: most registrations answer nothing, and "{}" needs no JSON parsing.
            type_coerce(Registration.answers, Text).label("answers"),
            Registration.utm_campaign,
            Lead.email,
            Lead.country,
            Lead.job_title,
            Lead.owner_id,
            Lead.status,
            Lead.score,
        )
        .join(Lead, Lead.id == Registration.lead_id)
        .outerjoin(
            FollowUp,
            and_(FollowUp.lead_id == Registration.lead_id, FollowUp.event_id == event.id),
        )
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(FOLLOWED_UP_REGISTRATIONS),
            FollowUp.id.is_(None),
        )
    ).all()
    run = RoutingRun(event_id=event.id, trigger=trigger, actor_id=actor_id, ran_at=now)
    db.session.add(run)
    db.session.flush()
    if not rows:
        return RoutingResult(created=0, by_rep={}, run_id=run.id)

    earlier = _earlier_registrations(event)
    scored = []
    domains = []
    # Most registrants did the same few things (no-shows above all): score each kind once.
    results: dict[Engagement, Score] = {}
    for row in rows:
        engagement = Engagement(
            attended_minutes=row.attended_minutes,
            event_minutes=event.duration_minutes,
            questions=row.questions_asked or 0,
            earlier_registrations=earlier.get(row.lead_id, 0),
            checked_in=row.checked_in,
            on_demand=row.on_demand,
        )
        result = results.get(engagement)
        if result is None:
            result = results[engagement] = score(engagement, settings)
        domain = email_domain(row.email)
        scored.append((row, engagement, result, domain))
        domains.append(domain)
    # Attendees first, then the most engaged: they get the reps' free capacity first.
    scored.sort(key=lambda item: (not item[1].attended, -item[2].score, item[0].id))

    router = Router(now, settings)
    rules_read_answers = any(rule.segments for rule in router.rules)
    # The event's questions that stand for a routing fact (a company size, a segment).
    maps_to = routing_facts([event.id]).get(event.id)
    router.load_companies(domains)
    start = max(now, event.over_at)
    followups: list[dict[str, Any]] = []
    same_for_all = {
        "event_id": event.id,
        "run_id": run.id,
        "status": "open",
        "assigned_at": now,
        "created_at": now,
        "updated_at": now,
    }
    # Every lead of one priority and rep time zone shares a due time: compute it once.
    due_times: dict[tuple[str, str], datetime] = {}
    by_rep: Counter[str] = Counter()
    # Per rep, the positions in `scored` (already most urgent first) of their new leads.
    new_by_rep: dict[int, list[int]] = {}
    unassigned = 0
    for position, (row, engagement, result, domain) in enumerate(scored):
        facts = LeadFacts(
            country=row.country,
            domain=domain,
            segment=segment_of(_answers(row.answers), maps_to) if rules_read_answers else None,
            campaign=campaign,
            utm_campaign=row.utm_campaign,
            job_title=row.job_title or "",
        )
        decision = router.decide(facts, row.owner_id)
        router.assigned(decision, domain)
        zone = decision.rep.timezone if decision.rep is not None else "UTC"
        due = due_times.get((result.priority, zone))
        if due is None:
            due = due_times[result.priority, zone] = due_at(start, result.priority, zone, settings)
        followups.append(
            {
                **same_for_all,
                "lead_id": row.lead_id,
                "registration_id": row.id,
                "rep_id": decision.rep.id if decision.rep is not None else None,
                "rule_id": decision.rule_id,
                "priority": result.priority,
                "priority_rank": PRIORITY_RANK[result.priority],
                "score": result.score,
                "attended_minutes": engagement.attended_minutes,
                "due_at": due,
                "why": decision.why,
                "flagged_at": now if decision.rep is None else None,
            }
        )
        if decision.rep is None:
            unassigned += 1
        else:
            by_rep[decision.rep.email] += 1
            new_by_rep.setdefault(decision.rep.id, []).append(position)

    db.session.execute(insert(FollowUp.__table__), followups)
    signals.routed.send(event, run_id=run.id)
    _hand_over_leads(event.id, run.id, now)
    router.save()
    run.created = len(followups)
    for rep_id, positions in new_by_rep.items():
        rep = router.reps[rep_id]
        counts = Counter(followups[position]["priority"] for position in positions)
        most_urgent = heapq.nsmallest(
            email.DIGEST_LINES,
            positions,
            key=lambda p: (followups[p]["priority_rank"], followups[p]["due_at"], p),
        )
        lead_ids = [scored[p][0].lead_id for p in most_urgent]
        named = _names(lead_ids)
        made = _followup_ids(event.id, lead_ids)
        lines = [
            email.NewLead(
                *named[scored[p][0].lead_id],
                followups[p]["priority"],
                followups[p]["due_at"],
                made.get(scored[p][0].lead_id),
            )
            for p in most_urgent
        ]
        email.digest(run, event, rep, lines, counts, rep.timezone)
    return RoutingResult(
        created=len(followups), by_rep=dict(by_rep), unassigned=unassigned, run_id=run.id
    )


def _rescore_untouched(event: Event, settings: FollowUpSettings, now: datetime) -> None:
    """Attendance that arrives after routing (it was routed when the wait ran out, or the
    recording was watched on demand since) updates the priority and due time of the
    follow-ups no rep has touched yet; the rep stays."""
    stale = db.session.execute(
        select(
            FollowUp,
            Registration.attended_minutes,
            Registration.questions_asked,
            Registration.checked_in_at.is_not(None),
            Registration.on_demand_at.is_not(None),
        )
        .join(Registration, Registration.id == FollowUp.registration_id)
        .where(
            FollowUp.event_id == event.id,
            FollowUp.status == "open",
            FollowUp.first_contacted_at.is_(None),
            FollowUp.escalated_at.is_(None),
            or_(
                and_(
                    Registration.attended_minutes.is_not(None),
                    or_(
                        FollowUp.attended_minutes.is_(None),
                        FollowUp.attended_minutes != Registration.attended_minutes,
                    ),
                ),
                # Scored before its first on-demand view.
                Registration.on_demand_at > FollowUp.updated_at,
            ),
        )
        .options(selectinload(FollowUp.rep).selectinload(User.rep_profile))
    ).all()
    if not stale:
        return
    earlier = _earlier_registrations(event)
    start = max(now, event.over_at)
    for followup, minutes, questions, checked_in, on_demand in stale:
        result = score(
            Engagement(
                attended_minutes=minutes,
                event_minutes=event.duration_minutes,
                questions=questions or 0,
                earlier_registrations=earlier.get(followup.lead_id, 0),
                checked_in=checked_in,
                on_demand=on_demand,
            ),
            settings,
        )
        profile = followup.rep.rep_profile if followup.rep is not None else None
        zone = profile.timezone if profile is not None else "UTC"
        followup.attended_minutes = minutes
        followup.score = result.score
        followup.priority = result.priority
        followup.priority_rank = PRIORITY_RANK[result.priority]
        followup.due_at = due_at(start, result.priority, zone, settings)
    db.session.flush()


def _followup_ids(event_id: int, lead_ids: list[int]) -> dict[int, int]:
    """The ids of a digest's few new follow-ups (inserted in bulk, so read back), by lead."""
    rows = db.session.execute(
        select(FollowUp.lead_id, FollowUp.id).where(
            FollowUp.event_id == event_id, FollowUp.lead_id.in_(lead_ids)
        )
    )
    return {lead_id: followup_id for lead_id, followup_id in rows}


def _names(lead_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(name, company) of a digest's few leads."""
    rows = db.session.execute(
        select(Lead.id, Lead.first_name, Lead.last_name, Lead.email, Lead.company).where(
            Lead.id.in_(lead_ids)
        )
    )
    return {
        lead_id: (f"{first} {last}".strip() or address, company or "")
        for lead_id, first, last, address, company in rows
    }


def _answers(stored: str | dict[str, Any] | None) -> dict[str, Any]:
    # SQLite hands back the stored text; PostgreSQL's driver has already decoded its json.
    if isinstance(stored, dict):
        return stored
    if not stored or stored == "{}":
        return {}
    value = json.loads(stored)
    return value if isinstance(value, dict) else {}


def _hand_over_leads(event_id: int, run_id: int, now: datetime) -> None:
    """Give each lead of this run to its follow-up's rep, in one statement.

    New engagement reopens a lead that was new or turned down (a verdict stands otherwise),
    and the lead keeps the best score any event gave it.
    """
    leads = Lead.__table__
    followups = FollowUp.__table__
    mine = (followups.c.lead_id == leads.c.id) & (followups.c.event_id == event_id)
    rep = select(followups.c.rep_id).where(mine).scalar_subquery()
    new_score = select(followups.c.score).where(mine).scalar_subquery()
    db.session.execute(
        update(leads)
        .where(leads.c.id.in_(select(followups.c.lead_id).where(followups.c.run_id == run_id)))
        .values(
            owner_id=func.coalesce(rep, leads.c.owner_id),
            status=case(
                (leads.c.status.in_(("new", "disqualified")), "open"), else_=leads.c.status
            ),
            score=case((new_score > leads.c.score, new_score), else_=leads.c.score),
            updated_at=now,
        )
    )


def _earlier_registrations(event: Event) -> dict[int, int]:
    """For each registrant of `event`, how many events they registered for before it."""
    these = select(Registration.lead_id).where(Registration.event_id == event.id)
    return dict(
        db.session.execute(
            select(Registration.lead_id, func.count())
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.lead_id.in_(these),
                Registration.event_id != event.id,
                Event.starts_at < event.starts_at,
                Registration.status != "cancelled",
            )
            .group_by(Registration.lead_id)
        )
        .tuples()
        .all()
    )
