"""The rep's side of follow-up: whose list shows what, and recording a verdict or a note.

Pages and the API both call these, so "a rep sees only their own" is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.db import db, utcnow, writing
from app.events.models import Event
from app.followup import signals
from app.followup.models import (
    DISQUALIFY_REASONS,
    FOLLOWUP_STATUSES,
    OPEN_STATUSES,
    PRIORITIES,
    FollowUp,
    FollowUpNote,
)
from app.models import User
from app.refusals import Refusal
from app.registrations.models import Lead, Registration

CLOSED_STATUSES = ("qualified", "disqualified", "converted")
MAX_NOTE = 5000
MAX_REASON_NOTE = 1000
# What a verdict does to the lead's score: qualified leads score at least 80, a conversion
# is the best a lead can do, and a rejected lead drops to the bottom.
VERDICT_SCORES = {"qualified": 80, "converted": 100, "disqualified": 0}


class FollowUpRejected(Refusal):
    """A verdict, note or assignment that breaks a rule; `fields` names each field and why."""


def sees_all(user: User) -> bool:
    return user.role == "admin"


def visible(user: User) -> Select[tuple[FollowUp]]:
    """The follow-ups `user` may see: a rep their own, an admin all."""
    query = select(FollowUp)
    if not sees_all(user):
        query = query.where(FollowUp.rep_id == user.id)
    return query


def find_visible(user: User, followup_id: int) -> FollowUp | None:
    """The follow-up, or None when it does not exist or belongs to another rep (both 404)."""
    return db.session.scalar(visible(user).where(FollowUp.id == followup_id))


@dataclass
class ListFilter:
    status: str = "open"  # "open" (open and contacted), "all" or one status
    priority: str | None = None
    event_slug: str | None = None
    rep_id: int | None = None  # admins only


def list_query(user: User, flt: ListFilter) -> Select[tuple[FollowUp]]:
    """The rep's list: by priority, then due time (the `ix_followups_rep_status_rank_due` index),
    with everything a row shows loaded in a fixed number of queries."""
    query = visible(user)
    if flt.status == "open":
        query = query.where(FollowUp.status.in_(OPEN_STATUSES))
    elif flt.status in FOLLOWUP_STATUSES:
        query = query.where(FollowUp.status == flt.status)
    if flt.priority in PRIORITIES:
        query = query.where(FollowUp.priority == flt.priority)
    if flt.event_slug:
        query = query.where(
            FollowUp.event_id.in_(select(Event.id).where(Event.slug == flt.event_slug))
        )
    if flt.rep_id is not None and sees_all(user):
        query = query.where(FollowUp.rep_id == flt.rep_id)
    return query.order_by(FollowUp.priority_rank, FollowUp.due_at, FollowUp.id)


def next_in_list(user: User, flt: ListFilter, after: FollowUp) -> FollowUp | None:
    """The follow-up the list shows after `after` (by priority, due time, id): "save and next".
    Keyed on `after`'s place, so it is found even when the save took `after` off the list."""
    later = or_(
        FollowUp.priority_rank > after.priority_rank,
        and_(FollowUp.priority_rank == after.priority_rank, FollowUp.due_at > after.due_at),
        and_(
            FollowUp.priority_rank == after.priority_rank,
            FollowUp.due_at == after.due_at,
            FollowUp.id > after.id,
        ),
    )
    return db.session.scalar(list_query(user, flt).where(later).limit(1))


def with_details(query: Select[tuple[FollowUp]]) -> Select[tuple[FollowUp]]:
    """Load what a list row shows: lead, event and campaign, registration, rep, notes and the
    lead's other registrations (earlier events) — one query each, never one per row."""
    return query.options(
        joinedload(FollowUp.lead).selectinload(Lead.registrations).joinedload(Registration.event),
        joinedload(FollowUp.event),
        joinedload(FollowUp.registration),
        joinedload(FollowUp.rep).joinedload(User.rep_profile),
        selectinload(FollowUp.notes).joinedload(FollowUpNote.author),
    )


def earlier_events(followup: FollowUp) -> list[Event]:
    """Events the lead registered for before this one (already loaded by `with_details`)."""
    return sorted(
        (
            registration.event
            for registration in followup.lead.registrations
            if registration.event_id != followup.event_id
            and registration.status != "cancelled"
            and registration.event.starts_at < followup.event.starts_at
        ),
        key=lambda event: event.starts_at,
        reverse=True,
    )


def counts_by_status(user: User) -> dict[str, int]:
    query = visible(user).with_only_columns(FollowUp.status, func.count()).group_by(FollowUp.status)
    return dict(db.session.execute(query).all())  # type: ignore[arg-type]


def update_followup(
    followup_id: int, actor: User, values: dict[str, Any], now: datetime | None = None
) -> FollowUp:
    """Record a rep's verdict (`status`, with `reason` and `reason_note` for a disqualified
    lead) and/or add a `note`. The lead's status and score follow the verdict.

    Only the assigned rep or an admin may change a follow-up; anyone else gets None from
    `find_visible` first, so the caller answers 404.
    """
    now = now or utcnow()
    problems: dict[str, str] = {}
    status = values.get("status")
    reason = values.get("reason")
    reason_note = (values.get("reason_note") or "").strip()
    note = (values.get("note") or "").strip()
    if status is not None and status not in FOLLOWUP_STATUSES:
        problems["status"] = f"Choose one of: {', '.join(FOLLOWUP_STATUSES)}."
    if status == "disqualified":
        if not reason:
            problems["reason"] = "Say why the lead is disqualified."
        elif reason not in DISQUALIFY_REASONS:
            problems["reason"] = f"Choose one of: {', '.join(DISQUALIFY_REASONS)}."
        elif reason == "other" and not (reason_note or note):
            problems["reason_note"] = "Describe the reason when you choose “Other”."
    elif reason:
        problems["reason"] = "A reason is given only when disqualifying a lead."
    if len(reason_note) > MAX_REASON_NOTE:
        problems["reason_note"] = f"Keep the reason under {MAX_REASON_NOTE} characters."
    if len(note) > MAX_NOTE:
        problems["note"] = f"Keep the note under {MAX_NOTE} characters."
    if status is None and not note:
        problems.setdefault("status", "Choose a new status or write a note.")
    if problems:
        raise FollowUpRejected(fields=problems)

    with writing():
        followup = find_visible(actor, followup_id)
        if followup is None:
            raise LookupError(followup_id)
        if not sees_all(actor) and followup.rep_id != actor.id:
            raise LookupError(followup_id)
        changed = status is not None and status != followup.status
        if status is not None and changed:
            _apply_verdict(followup, status, reason, reason_note or note or None, now)
            signals.updated.send(followup)
        if note or changed:
            # One timeline: the note and the status it came with are one line.
            db.session.add(
                FollowUpNote(
                    followup=followup,
                    author_id=actor.id,
                    body=note,
                    status=status if changed else None,
                    created_at=now,
                )
            )
        followup.updated_at = now
    return followup


def _apply_verdict(
    followup: FollowUp, status: str, reason: str | None, reason_note: str | None, now: datetime
) -> None:
    if followup.first_contacted_at is None and status != "open":
        # Any verdict means the rep acted on the lead: speed-to-lead stops here.
        followup.first_contacted_at = now
    followup.status = status
    followup.reason = reason if status == "disqualified" else None
    disqualified = status == "disqualified"
    followup.reason_note = (reason_note or "")[:MAX_REASON_NOTE] or None if disqualified else None
    followup.closed_at = now if status in CLOSED_STATUSES else None
    lead = followup.lead
    lead.status = status
    if status in VERDICT_SCORES:
        target = VERDICT_SCORES[status]
        lead.score = target if status != "qualified" else max(lead.score, target)


def assign_by_hand(
    followup_id: int, rep_id: int, actor: User, now: datetime | None = None
) -> FollowUp:
    """An admin gives a follow-up (typically one flagged because no rep could take it) to a
    rep of their choice; the rep's SLA starts now, in their business hours."""
    from app.followup.scoring import due_at, load_settings

    now = now or utcnow()
    if not sees_all(actor):
        raise LookupError(followup_id)
    with writing():
        followup = db.session.get(FollowUp, followup_id)
        if followup is None:
            raise LookupError(followup_id)
        rep = db.session.get(User, rep_id)
        if rep is None or rep.role != "rep" or rep.rep_profile is None or not rep.active:
            raise FollowUpRejected(fields={"rep": "Choose an active sales rep."})
        if followup.status not in OPEN_STATUSES:
            raise FollowUpRejected(fields={"rep": "Only a follow-up still being worked can move."})
        followup.rep_id = rep.id
        followup.lead.owner_id = rep.id
        followup.rule_id = None
        followup.why = f"{actor.name} assigned it to {rep.name} by hand."
        followup.assigned_at = now
        followup.flagged_at = None
        followup.due_at = due_at(now, followup.priority, rep.rep_profile.timezone, load_settings())
        followup.updated_at = now
        signals.assigned.send(followup)
    return followup
