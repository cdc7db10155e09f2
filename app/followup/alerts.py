"""Hot registrant, now: the rep who owns a registrant (the lead's owner, the company's rep, or
an "alert on registration" rule) is emailed and announced the moment they register.

The visitor's request only marks the registration (`mark`, a `pending` row in its own
transaction); the worker's pass decides and alerts (`send_alerts`), so nothing is called out
while the visitor waits. One row per registration, claimed by a conditional UPDATE, and the
outbox's and webhooks' dedupe keys make exactly one alert per registration under retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import selectinload

from app.db import db, insert_ignoring, rows_changed, utcnow, writing
from app.events.models import Event
from app.followup import email, signals
from app.followup.models import CompanyOwner, FollowUp, RegistrationAlert, RoutingRule
from app.followup.rules import Conditions, LeadFacts, email_domain, is_free_mail, segment_of
from app.models import User
from app.registrations.answers import labelled
from app.registrations.models import Registration
from app.registrations.questions import questions_of, routing_facts
from app.worker import wake_after_commit

# Alerts decided per pass; the rest wait for the next one (a minute at most).
BATCH = 200
# Not yet a registration to tell a rep about: it may still be confirmed, so it stays pending.
_NOT_YET = ("unverified",)
# Gone before the worker looked: nobody is alerted.
_GONE = ("cancelled", "declined")


@dataclass(frozen=True, slots=True)
class HotRep:
    """The rep a registrant belongs to, and the sentence saying why."""

    rep: User
    why: str


@dataclass(frozen=True, slots=True)
class Earlier:
    """One line of a registrant's history: another registration and what came of it."""

    event_title: str
    starts_at: datetime
    status: str
    attended_minutes: float | None
    followup_status: str | None
    followup_rep: str | None


def mark(registration: Registration, **_: Any) -> None:
    """Note a new (or newly confirmed) registration for the worker's next pass; once."""
    statement = insert_ignoring(RegistrationAlert.__table__, ("registration_id",))
    row = {"registration_id": registration.id, "status": "pending", "created_at": utcnow()}
    if db.session.execute(statement, row).first() is not None:
        wake_after_commit()


def hot_rep(registration: Registration) -> HotRep | None:
    """Whose registrant this is: the lead's owner, else the rep of the company's email domain
    (never a free-mail domain), else the first active "alert on registration" rule it meets.
    Only an active user is named; None when no rep claims the registrant."""
    lead = registration.lead
    if lead.owner_id is not None:
        owner = _active(lead.owner_id)
        if owner is not None:
            return HotRep(owner, f"{owner.name} owns this lead.")
    domain = email_domain(lead.email)
    if not is_free_mail(domain):
        company = db.session.get(CompanyOwner, domain)
        if company is not None:
            rep = _active(company.rep_id)
            if rep is not None:
                return HotRep(rep, f"{rep.name} works with others at {domain}.")
    rules = db.session.scalars(
        select(RoutingRule)
        .where(RoutingRule.active.is_(True), RoutingRule.alert_on_registration.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
        .options(selectinload(RoutingRule.members))
    ).all()
    if not rules:
        return None
    event = registration.event
    facts = LeadFacts(
        country=registration.country or lead.country,
        domain=domain,
        segment=segment_of(registration.answers, routing_facts([event.id]).get(event.id)),
        campaign=event.campaign.name if event.campaign is not None else None,
        utm_campaign=registration.utm_campaign,
        job_title=registration.job_title or lead.job_title or "",
    )
    for rule in rules:
        met = Conditions.of(rule).met_by(facts)
        if met is None:
            continue
        rep = _rule_rep(rule)
        if rep is not None:
            because = f" ({', '.join(met)})" if met else ""
            return HotRep(rep, f"Rule “{rule.name}” alerts on registration{because}.")
    return None


def send_alerts(now: datetime | None = None) -> int:
    """The worker's job: decide each pending registration, email its rep and announce it.
    Returns how many alerts were sent."""
    now = now or utcnow()
    sent = 0
    with writing():
        pending = db.session.scalars(
            select(RegistrationAlert)
            .join(Registration, Registration.id == RegistrationAlert.registration_id)
            .where(RegistrationAlert.status == "pending", Registration.status.not_in(_NOT_YET))
            .order_by(RegistrationAlert.id)
            .limit(BATCH)
        ).all()
        for alert in pending:
            registration = alert.registration
            found = None if registration.status in _GONE else hot_rep(registration)
            # Claimed by a conditional UPDATE: a second worker on the same row changes nothing.
            claimed = rows_changed(
                update(RegistrationAlert)
                .where(RegistrationAlert.id == alert.id, RegistrationAlert.status == "pending")
                .values(
                    status="sent" if found else "none",
                    rep_id=found.rep.id if found else None,
                    why=found.why[:500] if found else None,
                    decided_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if not claimed or found is None:
                continue
            db.session.refresh(alert)
            answers = labelled(questions_of(registration.event_id), registration.answers)
            history = earlier(registration)
            email.registrant_alert(alert, found.rep, found.why, answers, history)
            signals.alerted.send(alert, answers=answers, history=history)
            sent += 1
    return sent


def booking_for(registration: Registration) -> tuple[str, str] | None:
    """(rep name, meeting link) to offer on the thank-you page: the registrant's rep, when
    that rep has a meeting link."""
    if registration.status in _GONE:
        return None
    found = hot_rep(registration)
    if found is None or found.rep.rep_profile is None or not found.rep.rep_profile.meeting_url:
        return None
    return found.rep.name, found.rep.rep_profile.meeting_url


def earlier(registration: Registration) -> list[Earlier]:
    """The lead's other registrations, newest first, with attendance and any follow-up."""
    rows = db.session.execute(
        select(
            Event.title,
            Event.starts_at,
            Registration.status,
            Registration.attended_minutes,
            FollowUp.status,
            User.name,
        )
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(
            FollowUp,
            and_(
                FollowUp.lead_id == Registration.lead_id, FollowUp.event_id == Registration.event_id
            ),
        )
        .outerjoin(User, User.id == FollowUp.rep_id)
        .where(Registration.lead_id == registration.lead_id, Registration.id != registration.id)
        .order_by(Event.starts_at.desc())
    ).all()
    return [Earlier(*row) for row in rows]


def _active(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _rule_rep(rule: RoutingRule) -> User | None:
    """The rule's rep, or for a pool its heaviest active member (an alert goes to one rep;
    the round-robin's turns are left for routing after the event)."""
    if rule.target_rep_id is not None:
        return _active(rule.target_rep_id)
    for member in sorted(rule.members, key=lambda m: (-m.weight, m.rep_id)):
        rep = _active(member.rep_id)
        if rep is not None:
            return rep
    return None
