"""What follow-up holds about a person (their follow-ups, the reps' notes and verdicts, the
escalations that moved them) for an export, and erasing it: the follow-ups stay, counted in
the reps' and campaigns' figures, without a word about whom they were for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from app.db import db, rows_changed
from app.followup.models import Escalation, FollowUp, FollowUpNote
from app.privacy.people import iso
from app.privacy.registry import Person


def export(person: Person) -> dict[str, Any]:
    return {"followups": [_followup(followup) for followup in _followups(person)]}


def erase(person: Person, _now: datetime) -> int:
    """Notes go (they are what reps wrote about the person); verdicts, reasons and the `why`
    of each follow-up keep their shape with every mention of the person blanked."""
    followups = _followups(person)
    ids = [followup.id for followup in followups]
    if not ids:
        return 0
    notes = rows_changed(
        delete(FollowUpNote)
        .where(FollowUpNote.followup_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    for followup in followups:
        db.session.expire(followup, ["notes"])
        followup.why = person.scrub(followup.why)
        followup.reason_note = None
    for escalation in db.session.scalars(select(Escalation).where(Escalation.followup_id.in_(ids))):
        escalation.reason = person.scrub(escalation.reason)
    return len(ids) + notes


def _followups(person: Person) -> list[FollowUp]:
    if person.lead_id is None:
        return []
    return list(
        db.session.scalars(
            select(FollowUp).where(FollowUp.lead_id == person.lead_id).order_by(FollowUp.id)
        )
    )


def _followup(followup: FollowUp) -> dict[str, Any]:
    escalations = db.session.scalars(
        select(Escalation).where(Escalation.followup_id == followup.id).order_by(Escalation.id)
    )
    return {
        "id": followup.id,
        "event": followup.event.slug,
        "rep": followup.rep.email if followup.rep else None,
        "status": followup.status,
        "priority": followup.priority,
        "score": followup.score,
        "why": followup.why,
        "attended_minutes": followup.attended_minutes,
        "due_at": iso(followup.due_at),
        "assigned_at": iso(followup.assigned_at),
        "reason": followup.reason,
        "reason_note": followup.reason_note,
        "closed_at": iso(followup.closed_at) if followup.closed_at else None,
        "notes": [
            {
                "body": note.body,
                "status": note.status,
                "author": note.author.email if note.author else None,
                "created_at": iso(note.created_at),
            }
            for note in followup.notes
        ],
        "escalations": [
            {"outcome": e.outcome, "reason": e.reason, "at": iso(e.created_at)} for e in escalations
        ],
    }
