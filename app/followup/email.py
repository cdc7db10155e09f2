"""What reps (and admins) are told about follow-up: one digest per rep per routing batch, and
escalations. Messages go through the mail outbox in the routing transaction, so a message
exists exactly when its cause was committed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.followup.models import Escalation, FollowUp, RegistrationAlert, RoutingRun
from app.mail import outbox
from app.mail.compose import Letter, one_line
from app.models import User
from app.pages import local_time


@dataclass(slots=True)
class NewLead:
    """One line of a digest."""

    name: str
    company: str
    priority: str
    due_at: datetime
    followup_id: int | None = None

    @property
    def url(self) -> str:
        """The follow-up's own page, one tap from the digest (the list when it has no id)."""
        if self.followup_id is None:
            return list_url()
        return f"{list_url()}/{self.followup_id}"


def list_url() -> str:
    return current_app.config["BASE_URL"] + "/followups"


# A digest lists this many of the batch's leads, most urgent first, and counts the rest.
DIGEST_LINES = 20


def digest(
    run: RoutingRun,
    event: Event,
    rep: Any,
    most_urgent: Sequence[NewLead],
    counts: Mapping[str, int],
    zone: str,
) -> None:
    """One message telling a rep what this batch gave them: how many of each priority, and
    the most urgent leads (`most_urgent`, in order) with their due times."""
    total = sum(counts.values())
    subject = f"{total} new follow-up{'s' if total != 1 else ''}: {event.title}"
    outbox.queue_letter(
        "followup_digest",
        f"followup-digest:run:{run.id}:{rep.email}",
        _letter(
            "digest",
            subject,
            rep_name=rep.name,
            event=event,
            leads=most_urgent,
            total=total,
            counts={p: counts.get(p, 0) for p in ("hot", "warm", "cold")},
            first_due=local_time(most_urgent[0].due_at, zone),
            zone=zone,
        ),
        to_email=rep.email,
        to_name=rep.name,
        event_id=event.id,
    )


def escalated(escalation: Escalation) -> None:
    """Tell the rep who lost the follow-up and the rep who got it; when no one could take
    it, tell the rep and every active admin that it needs a decision."""
    followup: FollowUp = escalation.followup
    lead = followup.lead
    who = f"{lead.first_name} {lead.last_name}".strip() or lead.email
    recipients: list[tuple[User, str]] = []
    if escalation.from_rep is not None:
        recipients.append((escalation.from_rep, "from"))
    if escalation.to_rep is not None:
        recipients.append((escalation.to_rep, "to"))
    if escalation.outcome == "flagged":
        admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True)))
        recipients.extend((admin, "admin") for admin in admins)
    for user, role in recipients:
        if role == "to":
            subject = f"Follow-up reassigned to you: {who}"
        elif role == "from":
            subject = f"Follow-up escalated: {who}"
        else:
            subject = f"Follow-up needs an owner: {who}"
        outbox.queue_letter(
            "followup_escalation",
            f"followup-escalation:{escalation.id}:{role}:{user.id}",
            _letter(
                "escalated",
                subject,
                recipient=user,
                role=role,
                escalation=escalation,
                lead=lead,
                followup=followup,
                who=who,
            ),
            to_email=user.email,
            to_name=user.name,
            event_id=followup.event_id,
        )


def registrant_alert(
    alert: RegistrationAlert,
    rep: User,
    why: str,
    answers: Sequence[tuple[str, str]],
    history: Sequence[Any],
) -> None:
    """Tell a rep that their registrant just signed up: who, for which event, what they
    answered and what came before. One per registration (its dedupe key)."""
    registration = alert.registration
    event = registration.event
    who = registration.full_name or registration.email
    zone = rep.rep_profile.timezone if rep.rep_profile is not None else "UTC"
    outbox.queue_letter(
        "registrant_alert",
        f"registrant-alert:{registration.id}",
        _letter(
            "alert",
            f"Registered just now: {who} for {event.title}",
            recipient=rep,
            registration=registration,
            event=event,
            who=who,
            why=why,
            answers=answers,
            history=history,
            when=local_time(event.starts_at, zone),
            zone=zone,
        ),
        to_email=rep.email,
        to_name=rep.name,
        event_id=event.id,
    )


def _letter(template: str, subject: str, **context: object) -> Letter:
    subject = one_line(subject)
    context.update(subject=subject, list_url=list_url())
    text = render_template(f"followup/mail/{template}.txt", **context)
    html = render_template(f"followup/mail/{template}.html", **context)
    return Letter(subject, text, html)
