"""Follow-up: who works which lead after an event, the routing rules, and routing's memory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UTCDateTime, utcnow
from app.events.models import Event
from app.models import User
from app.registrations.models import Lead, Registration

FOLLOWUP_STATUSES = ("open", "contacted", "qualified", "disqualified", "converted")
# Still waiting for the rep: these count against a rep's capacity and show on the list.
OPEN_STATUSES = ("open", "contacted")
PRIORITIES = ("hot", "warm", "cold")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
# Why a rep turned a lead down; marketing reads these per campaign.
DISQUALIFY_REASONS = {
    "no_need": "No need or no fit",
    "no_budget": "No budget",
    "no_authority": "Not a decision maker",
    "competitor": "Chose or uses a competitor",
    "student": "Student, job seeker or vendor",
    "bad_contact": "Wrong or fake contact details",
    "unreachable": "Could not be reached",
    "duplicate": "Duplicate of another lead",
    "other": "Other",
}
ROUTING_TRIGGERS = ("worker", "console", "api", "cli")


def _in(column: str, values: tuple[str, ...] | list[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class RoutingRule(Model):
    """One line of the ordered routing table: conditions, then one rep or a weighted pool.

    Every condition list that is not empty must match (any of its values); a rule with no
    conditions matches every lead.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    campaigns: Mapped[list[str]] = mapped_column(JSON, default=list)
    title_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Tell the rep the moment a matching lead registers, not only after the event.
    alert_on_registration: Mapped[bool] = mapped_column(default=False, server_default=false())
    target_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    target_rep: Mapped[User | None] = relationship()
    members: Mapped[list[PoolMember]] = relationship(
        back_populates="rule", cascade="all, delete-orphan", order_by="PoolMember.rep_id"
    )

    @property
    def pool_key(self) -> str:
        return f"rule:{self.id}"


class PoolMember(Model):
    """A rep in a rule's round-robin pool, with a weight (2 gets twice the leads of 1)."""

    __tablename__ = "routing_pool_members"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="CASCADE"), primary_key=True
    )
    rep_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    weight: Mapped[int] = mapped_column(default=1)

    rule: Mapped[RoutingRule] = relationship(back_populates="members")
    rep: Mapped[User] = relationship()


class RoundRobinCredit(Model):
    """Smooth weighted round-robin state, one row per pool and rep.

    `present` is False while the rep was passed over at the pool's last turn (out of office,
    at capacity, inactive or removed); on return the rep's credit is set to the pool's current
    level, so time away earns no burst of leads.
    """

    __tablename__ = "round_robin_credits"

    pool: Mapped[str] = mapped_column(String(64), primary_key=True)
    rep_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    credit: Mapped[int] = mapped_column(default=0)
    present: Mapped[bool] = mapped_column(default=True)


class CompanyOwner(Model):
    """Which rep works a company (by email domain), so colleagues reach the same rep."""

    __tablename__ = "company_owners"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RoutingRun(Model):
    """One call of `route_followups`: what started it and how many follow-ups it made."""

    __tablename__ = "routing_runs"
    __table_args__ = (CheckConstraint(_in("trigger", ROUTING_TRIGGERS), name="trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[int] = mapped_column(default=0)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(Model):
    """A lead's follow-up for one event, assigned to a rep with a priority, a due time and why."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("lead_id", "event_id", name="uq_followups_lead_event"),
        CheckConstraint(_in("status", FOLLOWUP_STATUSES), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(
            " OR ".join(
                f"(priority = '{name}' AND priority_rank = {rank})"
                for name, rank in PRIORITY_RANK.items()
            ),
            name="priority_rank_matches",
        ),
        CheckConstraint(
            "status <> 'disqualified' OR reason IS NOT NULL", name="disqualified_has_reason"
        ),
        CheckConstraint(
            "attended_minutes IS NULL OR attended_minutes >= 0", name="attended_not_negative"
        ),
        # The rep's list: own open follow-ups by priority, then due time.
        Index("ix_followups_rep_status_rank_due", "rep_id", "status", "priority_rank", "due_at"),
        # Escalation scans overdue open follow-ups.
        Index("ix_followups_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    # None only while no rep at all could take it; such a follow-up is flagged to admins.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_runs.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(8))
    priority_rank: Mapped[int]
    score: Mapped[int] = mapped_column(default=0)
    attended_minutes: Mapped[float | None]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    why: Mapped[str] = mapped_column(String(1000))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(32))
    reason_note: Mapped[str | None] = mapped_column(String(1000))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lead: Mapped[Lead] = relationship()
    event: Mapped[Event] = relationship()
    registration: Mapped[Registration | None] = relationship()
    rep: Mapped[User | None] = relationship(foreign_keys=[rep_id])
    rule: Mapped[RoutingRule | None] = relationship()
    notes: Mapped[list[FollowUpNote]] = relationship(
        back_populates="followup", order_by="FollowUpNote.created_at", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at < now


class FollowUpNote(Model):
    """One line of a follow-up's timeline: a rep's note, the status they set with it, or both."""

    __tablename__ = "followup_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(
        ForeignKey("followups.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    # The status the follow-up moved to with this line; None for a note alone.
    status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    followup: Mapped[FollowUp] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class Escalation(Model):
    """An overdue follow-up taken from its rep (or flagged to admins), and the reason."""

    __tablename__ = "followup_escalations"
    __table_args__ = (CheckConstraint(_in("outcome", ("reassigned", "flagged")), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(
        ForeignKey("followups.id", ondelete="CASCADE"), index=True
    )
    from_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    followup: Mapped[FollowUp] = relationship()
    from_rep: Mapped[User | None] = relationship(foreign_keys=[from_rep_id])
    to_rep: Mapped[User | None] = relationship(foreign_keys=[to_rep_id])


ALERT_STATUSES = ("pending", "sent", "none")


class RegistrationAlert(Model):
    """A registration the worker must look at for a hot-registrant alert, then what it found.

    The registration's request only adds the `pending` row; the worker decides (`sent` to
    `rep`, or `none` when no rep claims the registrant). One row per registration, so one
    alert however often the worker retries.
    """

    __tablename__ = "registration_alerts"
    __table_args__ = (CheckConstraint(_in("status", ALERT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    why: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()
    rep: Mapped[User | None] = relationship()
