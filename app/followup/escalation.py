"""Escalation: open follow-ups overdue with their rep move on to another rep by the rules, or
are flagged to the admins when no one else fits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.db import db, utcnow, writing
from app.events.models import Campaign, Event
from app.followup import email, signals
from app.followup.models import Escalation, FollowUp
from app.followup.router import Rep, Router, lock_routing
from app.followup.rules import LeadFacts, email_domain, segment_of
from app.followup.scoring import FollowUpSettings, due_at, load_settings
from app.registrations.questions import routing_facts


def escalate_overdue(now: datetime | None = None) -> list[Escalation]:
    """Take open follow-ups overdue by the configured time from their rep and route them again
    by the rules (never back to the same rep), or flag them to admins when no one else fits.

    The reason is recorded; both reps (or the rep and the admins) are told by email.
    """
    now = now or utcnow()
    with writing():
        lock_routing()
        settings = load_settings()
        cutoff = now - timedelta(minutes=settings.escalate_after_minutes)
        overdue = list(
            db.session.scalars(
                select(FollowUp)
                .where(
                    FollowUp.status == "open",
                    FollowUp.due_at < cutoff,
                    FollowUp.flagged_at.is_(None),
                )
                .order_by(FollowUp.priority_rank, FollowUp.due_at)
                .options(selectinload(FollowUp.lead), selectinload(FollowUp.registration))
            )
        )
        if not overdue:
            return []
        router = Router(now, settings)
        router.load_companies(email_domain(f.lead.email) for f in overdue)
        campaigns = _campaign_names({f.event_id for f in overdue})
        facts = routing_facts({f.event_id for f in overdue})
        escalations = []
        for followup in overdue:
            maps_to = facts.get(followup.event_id)
            escalations.append(_escalate(followup, router, campaigns, maps_to, settings, now))
        router.save()
        db.session.flush()
        for escalation in escalations:
            email.escalated(escalation)
    return escalations


def _campaign_names(event_ids: set[int]) -> dict[int, str | None]:
    return dict(
        db.session.execute(
            select(Event.id, Campaign.name)
            .outerjoin(Campaign, Campaign.id == Event.campaign_id)
            .where(Event.id.in_(event_ids))
        )
        .tuples()
        .all()
    )


def _escalate(
    followup: FollowUp,
    router: Router,
    campaigns: dict[int, str | None],
    maps_to: dict[str, str] | None,
    settings: FollowUpSettings,
    now: datetime,
) -> Escalation:
    lead = followup.lead
    registration = followup.registration
    previous = router.reps.get(followup.rep_id) if followup.rep_id is not None else None
    late = _spoken_duration(now - followup.due_at)
    facts = LeadFacts(
        country=lead.country,
        domain=email_domain(lead.email),
        segment=segment_of(registration.answers if registration is not None else None, maps_to),
        campaign=campaigns.get(followup.event_id),
        utm_campaign=registration.utm_campaign if registration is not None else None,
        job_title=lead.job_title or "",
    )
    exclude = frozenset({previous.id}) if previous is not None else frozenset()
    # The stuck rep owns the lead; escalation looks past ownership to the rules.
    decision = router.decide(facts, owner_id=None, exclude=exclude)
    previous_name = previous.name if previous is not None else "nobody"
    if decision.rep is None:
        followup.flagged_at = now
        reason = (
            f"Overdue by {late} with {previous_name} and no other rep could take it, "
            "so it is flagged for an admin."
        )
        return _record(followup, previous, None, "flagged", reason, now)
    if previous is not None:
        previous.open_count = max(previous.open_count - 1, 0)
    router.assigned(decision, facts.domain)
    reason = f"Overdue by {late} with {previous_name}; {_lower_first(decision.why)}"
    followup.rep_id = decision.rep.id
    followup.rule_id = decision.rule_id
    followup.why = reason
    followup.escalated_at = now
    followup.assigned_at = now
    followup.due_at = due_at(now, followup.priority, decision.rep.timezone, settings)
    lead.owner_id = decision.rep.id
    signals.assigned.send(followup)
    return _record(followup, previous, decision.rep, "reassigned", reason, now)


def _record(
    followup: FollowUp,
    previous: Rep | None,
    new: Rep | None,
    outcome: str,
    reason: str,
    now: datetime,
) -> Escalation:
    escalation = Escalation(
        followup=followup,
        from_rep_id=previous.id if previous is not None else None,
        to_rep_id=new.id if new is not None else None,
        outcome=outcome,
        reason=reason,
        created_at=now,
    )
    db.session.add(escalation)
    return escalation


def _lower_first(sentence: str) -> str:
    if sentence.startswith(("Rule ", "No rule", "No routing", "Sent ", "Kept ")):
        return sentence[0].lower() + sentence[1:]
    return sentence


def _spoken_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
