"""Which rep gets a lead: ownership, the colleague's rep, the ordered rules, the country's reps,
and the `why` sentence naming whoever was passed over.

Order of decisions for each lead:
1. its owner keeps it (sticky), unless the owner is inactive, out of office or at capacity;
2. a colleague's rep takes it: leads from one company domain go to one rep (not for free-mail
   domains such as gmail.com);
3. the first active routing rule whose conditions it meets sends it to the rule's rep, or to
   its pool by weighted round-robin;
4. otherwise the default: the reps whose countries hold the lead's country, else every active
   rep, by weighted round-robin.
A rep passed over at any step is named, with the reason, in the follow-up's `why`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import selectinload

from app.db import db
from app.followup.models import OPEN_STATUSES, CompanyOwner, FollowUp, RoundRobinCredit, RoutingRule
from app.followup.round_robin import RoundRobin
from app.followup.rules import Conditions, LeadFacts, is_free_mail
from app.followup.scoring import FollowUpSettings
from app.models import RepProfile, User

# Values per IN (…) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_CHUNK = 5000
# PostgreSQL advisory lock key: one routing transaction at a time keeps round-robin credits
# and capacity counts exact (SQLite's write lock does the same there).
_ROUTING_LOCK = 5_000_001
# A `why` names at most this many passed-over reps, then counts the rest.
_NAMED_SKIPS = 3


@dataclass
class Rep:
    """A rep as routing sees them, with their open follow-ups counted as the batch goes."""

    id: int
    email: str
    name: str
    weight: int
    capacity: int | None
    countries: frozenset[str]
    active: bool
    timezone: str
    # Why the rep is away today (in their own time zone), or None.
    away: str | None = None
    open_count: int = 0

    def passed_over_because(self) -> str | None:
        """Why this rep cannot take a lead right now, or None when they can."""
        if not self.active:
            return "no longer active"
        if self.away is not None:
            return self.away
        if self.capacity is not None and self.open_count >= self.capacity:
            return f"at capacity with {_follow_ups(self.open_count)} open"
        return None


@dataclass(slots=True)
class Decision:
    rep: Rep | None
    why: str
    rule_id: int | None = None
    via_company: bool = False


@dataclass
class _Skips:
    """Reps passed over while deciding one lead, in the order met, each named once."""

    reasons: dict[int, tuple[str, str]] = field(default_factory=dict)

    def add(self, rep: Rep, reason: str, role: str = "") -> None:
        label = f"{role}{rep.name}" if role else rep.name
        self.reasons.setdefault(rep.id, (label, reason))

    def clause(self) -> str:
        if not self.reasons:
            return ""
        named = [f"{label} ({reason})" for label, reason in self.reasons.values()]
        if len(named) > _NAMED_SKIPS:
            named = [*named[:_NAMED_SKIPS], f"{len(named) - _NAMED_SKIPS} more"]
        return ", passing over " + ", ".join(named)


class Router:
    """Everything one routing transaction needs in memory, and the decision for one lead."""

    def __init__(self, now: datetime, settings: FollowUpSettings) -> None:
        self.now = now
        self.settings = settings
        self.reps = _load_reps(now)
        self.rules = list(
            db.session.scalars(
                select(RoutingRule)
                .where(RoutingRule.active.is_(True))
                .order_by(RoutingRule.position, RoutingRule.id)
                .options(selectinload(RoutingRule.members))
            )
        )
        self.conditions = [Conditions.of(rule) for rule in self.rules]
        self.round_robin = RoundRobin(db.session.scalars(select(RoundRobinCredit)))
        # Each pool's members (rep, weight), worked out once per batch.
        self.pools: dict[str, list[tuple[Rep, int]]] = {}
        self.company_owner: dict[str, int] = {}
        # Domains that have a company_owners row (loaded ones; new rows are inserted).
        self.stored_companies: set[str] = set()
        self.changed_companies: dict[str, int] = {}

    def load_companies(self, domains: Iterable[str]) -> None:
        wanted = sorted({d for d in domains if d and not is_free_mail(d)})
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            for domain, rep_id in db.session.execute(
                select(CompanyOwner.domain, CompanyOwner.rep_id).where(
                    CompanyOwner.domain.in_(chunk)
                )
            ):
                self.company_owner[domain] = rep_id
                self.stored_companies.add(domain)

    def decide(
        self, facts: LeadFacts, owner_id: int | None, exclude: frozenset[int] = frozenset()
    ) -> Decision:
        skips = _Skips()
        owner = self.reps.get(owner_id) if owner_id is not None else None
        if owner is not None and owner.id not in exclude:
            reason = owner.passed_over_because()
            if reason is None:
                return Decision(owner, f"Kept with {owner.name}, who already owns this lead.")
            skips.add(owner, reason, role="its owner ")

        company = facts.domain if facts.domain and not is_free_mail(facts.domain) else None
        colleague_rep = self.reps.get(self.company_owner.get(company, -1)) if company else None
        if colleague_rep is not None and colleague_rep.id not in exclude:
            reason = colleague_rep.passed_over_because()
            if reason is None:
                return Decision(
                    colleague_rep,
                    f"Sent to {colleague_rep.name}, who works with others at {company}"
                    f"{skips.clause()}.",
                    via_company=True,
                )
            skips.add(colleague_rep, reason, role=f"{company}'s rep ")

        for rule, conditions in zip(self.rules, self.conditions, strict=True):
            met = conditions.met_by(facts)
            if met is None:
                continue
            label = f"Rule “{rule.name}”" + (f" ({', '.join(met)})" if met else " (every lead)")
            if rule.target_rep_id is not None:
                rep = self.reps.get(rule.target_rep_id)
                if rep is None or rep.id in exclude:
                    continue
                reason = rep.passed_over_because()
                if reason is None:
                    return Decision(
                        rep, f"{label} sends it to {rep.name}{skips.clause()}.", rule.id
                    )
                skips.add(rep, reason)
                continue
            members = self._pool(rule.pool_key, exclude, partial(self._rule_members, rule))
            chosen = self._pick(rule.pool_key, members, skips)
            if chosen is not None:
                return Decision(
                    chosen,
                    f"{label} gave it to {chosen.name} by weighted round-robin{skips.clause()}.",
                    rule.id,
                )

        opening = "No rule matched" if self.rules else "No routing rule is set up"
        country = (facts.country or "").upper()
        if country:
            covering = self._pool(
                f"country:{country}",
                exclude,
                lambda: [
                    (rep, rep.weight)
                    for rep in self.reps.values()
                    if rep.active and country in rep.countries
                ],
            )
            chosen = self._pick(f"country:{country}", covering, skips)
            if chosen is not None:
                return Decision(
                    chosen,
                    f"{opening}, so {chosen.name}, who covers {country}, got it by weighted "
                    f"round-robin{skips.clause()}.",
                )
        everyone = self._pool(
            "all", exclude, lambda: [(rep, rep.weight) for rep in self.reps.values() if rep.active]
        )
        chosen = self._pick("all", everyone, skips)
        if chosen is not None:
            nobody = f"no available rep covers {country}" if country else "the lead has no country"
            return Decision(
                chosen,
                f"{opening} and {nobody}, so {chosen.name} got it by weighted round-robin over "
                f"all active reps{skips.clause()}.",
            )
        return Decision(
            None,
            f"No rep could take it{skips.clause() or ' (there is no active rep)'}; "
            "an admin must assign it.",
        )

    def _rule_members(self, rule: RoutingRule) -> list[tuple[Rep, int]]:
        return [(self.reps[m.rep_id], m.weight) for m in rule.members if m.rep_id in self.reps]

    def _pool(
        self,
        key: str,
        exclude: frozenset[int],
        members: Callable[[], list[tuple[Rep, int]]],
    ) -> list[tuple[Rep, int]]:
        if key not in self.pools:
            self.pools[key] = members()
        if not exclude:
            return self.pools[key]
        return [(rep, weight) for rep, weight in self.pools[key] if rep.id not in exclude]

    def _pick(self, pool: str, members: list[tuple[Rep, int]], skips: _Skips) -> Rep | None:
        available = []
        for rep, weight in members:
            reason = rep.passed_over_because()
            if reason is None:
                available.append((rep, weight))
            elif rep.active:
                skips.add(rep, reason)
        if not available:
            return None
        return self.round_robin.pick(pool, available)

    def assigned(self, decision: Decision, company: str | None) -> None:
        """Count the assignment against the rep and remember the company's rep."""
        rep = decision.rep
        if rep is None:
            return
        rep.open_count += 1
        if not company or is_free_mail(company):
            return
        current = self.reps.get(self.company_owner.get(company, -1))
        # A company keeps its rep; it moves only when that rep could not take this lead.
        if current is None or (current.id != rep.id and current.passed_over_because() is not None):
            self.company_owner[company] = rep.id
            self.changed_companies[company] = rep.id

    def save(self) -> None:
        self.round_robin.save()
        if not self.changed_companies:
            return
        known = self.stored_companies
        new = [
            {"domain": domain, "rep_id": rep_id, "updated_at": self.now}
            for domain, rep_id in self.changed_companies.items()
            if domain not in known
        ]
        moved = [
            {"key": domain, "rep_id": rep_id, "updated_at": self.now}
            for domain, rep_id in self.changed_companies.items()
            if domain in known
        ]
        if new:
            db.session.execute(insert(CompanyOwner.__table__), new)
        if moved:
            table = CompanyOwner.__table__
            db.session.execute(
                update(table)
                .where(table.c.domain == bindparam("key"))
                .values(rep_id=bindparam("rep_id"), updated_at=bindparam("updated_at")),
                moved,
            )


def _away(until: date | None, zone: str, now: datetime) -> str | None:
    if until is not None and now.astimezone(ZoneInfo(zone)).date() <= until:
        return f"out of office until {until.isoformat()}"
    return None


def _load_reps(now: datetime) -> dict[int, Rep]:
    open_counts = dict(
        db.session.execute(
            select(FollowUp.rep_id, func.count())
            .where(FollowUp.status.in_(OPEN_STATUSES), FollowUp.rep_id.is_not(None))
            .group_by(FollowUp.rep_id)
        )
        .tuples()
        .all()
    )
    reps: dict[int, Rep] = {}
    for user, profile in db.session.execute(
        select(User, RepProfile)
        .join(RepProfile, RepProfile.user_id == User.id)
        .where(User.role == "rep")
    ).all():
        reps[user.id] = Rep(
            id=user.id,
            email=user.email,
            name=user.name,
            weight=profile.weight,
            capacity=profile.capacity,
            countries=frozenset(c.upper() for c in profile.countries or []),
            active=user.active and profile.active,
            timezone=profile.timezone or "UTC",
            away=_away(profile.out_of_office_until, profile.timezone or "UTC", now),
            open_count=open_counts.get(user.id, 0),
        )
    return reps


def lock_routing() -> None:
    """Wait for any other routing or escalation transaction to finish (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROUTING_LOCK})


def _follow_ups(count: int) -> str:
    return f"{count} follow-up{'s' if count != 1 else ''}"
