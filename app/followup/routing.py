"""Routing follow-up: the one service that decides which rep works each lead after an event.

The worker, the console, the API and the command line all call `route_followups`. Routing is
idempotent: a lead gets one follow-up per event (a unique key), so a second run only picks up
registrants the first did not see.

Order of decisions for each lead, attendees first and best score first:
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

import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.db import db, utcnow, writing
from app.events.models import Campaign, Event
from app.followup import email
from app.followup.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    CompanyOwner,
    Escalation,
    FollowUp,
    RoundRobinCredit,
    RoutingRule,
    RoutingRun,
)
from app.followup.rules import Conditions, LeadFacts, email_domain, is_free_mail, segment_of
from app.followup.scoring import (
    Engagement,
    FollowUpSettings,
    Score,
    due_at,
    load_settings,
    score,
)
from app.models import RepProfile, User
from app.registrations.models import Lead, Registration

# Registrants who held or waited for a seat; cancelled and unpaid ones are not followed up.
FOLLOWED_UP_REGISTRATIONS = ("confirmed", "waitlisted")
# The worker routes events that ended at most this long ago (older ones only on demand).
AUTO_ROUTE_WINDOW = timedelta(days=14)
# Values per IN (…) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_CHUNK = 5000
_RACE_RETRIES = 3
# PostgreSQL advisory lock key: one routing transaction at a time keeps round-robin credits
# and capacity counts exact (SQLite's write lock does the same there).
_ROUTING_LOCK = 5_000_001
# A `why` names at most this many passed-over reps, then counts the rest.
_NAMED_SKIPS = 3


class RoutingRefused(Exception):
    """Routing cannot run for this event; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RoutingResult:
    created: int
    by_rep: dict[str, int]
    unassigned: int = 0
    run_id: int | None = None


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


class RoundRobin:
    """Smooth weighted round-robin over stored credits (the scheme nginx uses).

    At each turn every eligible rep gains their weight, the richest is chosen and pays back the
    total. Over any run of turns each rep's share matches their weight to within one lead. A rep
    who was not eligible at a pool's last turn (away, full, new to the pool) rejoins at the
    pool's current level, the mean credit of those who stayed, so absence is never paid back as
    a burst of leads.
    """

    def __init__(self, rows: Iterable[RoundRobinCredit]) -> None:
        self.state: dict[str, dict[int, list[Any]]] = {}
        for row in rows:
            self.state.setdefault(row.pool, {})[row.rep_id] = [row.credit, row.present]
        self.touched: set[str] = set()
        # Who was eligible at each pool's last turn in this batch: while that stays the same
        # (the usual case), nobody joins or leaves and the bookkeeping is skipped.
        self.last_turn: dict[str, frozenset[int]] = {}

    def pick(self, pool: str, members: Sequence[tuple[Rep, int]]) -> Rep:
        state = self.state.setdefault(pool, {})
        eligible = frozenset(rep.id for rep, _weight in members)
        if self.last_turn.get(pool) != eligible:
            self._rejoin(state, eligible)
            self.last_turn[pool] = eligible
            self.touched.add(pool)
        total = 0
        best: list[Any] | None = None
        chosen = members[0][0]
        for rep, weight in members:
            slot = state[rep.id]
            slot[0] += weight
            total += weight
            if best is None or slot[0] > best[0] or (slot[0] == best[0] and rep.id < chosen.id):
                best, chosen = slot, rep
        assert best is not None
        best[0] -= total
        return chosen

    @staticmethod
    def _rejoin(state: dict[int, list[Any]], eligible: frozenset[int]) -> None:
        staying = [slot[0] for rep_id, slot in state.items() if slot[1] and rep_id in eligible]
        level = round(sum(staying) / len(staying)) if staying else 0
        for rep_id, slot in state.items():
            if rep_id not in eligible:
                slot[1] = False
        for rep_id in eligible:
            slot = state.get(rep_id)
            if slot is None or not slot[1]:
                state[rep_id] = [level, True]

    def save(self) -> None:
        if not self.touched:
            return
        existing = {
            (row.pool, row.rep_id): row
            for row in db.session.scalars(
                select(RoundRobinCredit).where(RoundRobinCredit.pool.in_(self.touched))
            )
        }
        for pool in self.touched:
            for rep_id, (credit, present) in self.state[pool].items():
                row = existing.get((pool, rep_id))
                if row is None:
                    db.session.add(
                        RoundRobinCredit(pool=pool, rep_id=rep_id, credit=credit, present=present)
                    )
                else:
                    row.credit, row.present = credit, present


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
            members = self._pool(
                rule.pool_key,
                exclude,
                lambda rule=rule: [
                    (self.reps[m.rep_id], m.weight) for m in rule.members if m.rep_id in self.reps
                ],
            )
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
        ).all()
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


def _lock_routing() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROUTING_LOCK})


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
                _lock_routing()
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
    if now < event.ends_at:
        raise RoutingRefused("This event has not ended yet; follow-up is routed after it ends.")
    settings = load_settings()
    _rescore_untouched(event, settings, now)
    campaign = event.campaign.name if event.campaign is not None else None
    rows = db.session.execute(
        select(
            Registration.id,
            Registration.lead_id,
            Registration.attended_minutes,
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
    polls = _poll_answers(event.id)
    scored = []
    domains = []
    # Most registrants did the same few things (no-shows above all): score each kind once.
    results: dict[Engagement, Score] = {}
    for row in rows:
        engagement = Engagement(
            attended_minutes=row.attended_minutes,
            event_minutes=event.duration_minutes,
            questions=row.questions_asked or 0,
            polls=polls.get(row.id, 0),
            earlier_registrations=earlier.get(row.lead_id, 0),
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
    router.load_companies(domains)
    start = max(now, event.ends_at)
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
            segment=segment_of(_answers(row.answers)) if rules_read_answers else None,
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
        named = _names([scored[p][0].lead_id for p in most_urgent])
        lines = [
            email.NewLead(
                *named[scored[p][0].lead_id], followups[p]["priority"], followups[p]["due_at"]
            )
            for p in most_urgent
        ]
        email.digest(run, event, rep, lines, counts, rep.timezone)
    return RoutingResult(
        created=len(followups), by_rep=dict(by_rep), unassigned=unassigned, run_id=run.id
    )


def _rescore_untouched(event: Event, settings: FollowUpSettings, now: datetime) -> None:
    """Attendance that arrives after routing (it was routed when the wait ran out) updates the
    priority and due time of the follow-ups no rep has touched yet; the rep stays."""
    stale = db.session.execute(
        select(FollowUp, Registration.attended_minutes, Registration.questions_asked)
        .join(Registration, Registration.id == FollowUp.registration_id)
        .where(
            FollowUp.event_id == event.id,
            FollowUp.status == "open",
            FollowUp.first_contacted_at.is_(None),
            FollowUp.escalated_at.is_(None),
            Registration.attended_minutes.is_not(None),
            or_(
                FollowUp.attended_minutes.is_(None),
                FollowUp.attended_minutes != Registration.attended_minutes,
            ),
        )
        .options(selectinload(FollowUp.rep).selectinload(User.rep_profile))
    ).all()
    if not stale:
        return
    earlier = _earlier_registrations(event)
    polls = _poll_answers(event.id)
    start = max(now, event.ends_at)
    for followup, minutes, questions in stale:
        result = score(
            Engagement(
                attended_minutes=minutes,
                event_minutes=event.duration_minutes,
                questions=questions or 0,
                polls=polls.get(followup.registration_id or 0, 0),
                earlier_registrations=earlier.get(followup.lead_id, 0),
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
        ).all()
    )


def _poll_answers(event_id: int) -> dict[int, int]:
    """Poll answers per registration, when the attendance import records them."""
    column = getattr(Registration, "polls_answered", None)
    if column is None:
        return {}
    return dict(
        db.session.execute(
            select(Registration.id, column).where(
                Registration.event_id == event_id, column.is_not(None)
            )
        ).all()
    )


def due_events(now: datetime) -> list[Event]:
    """Ended events whose follow-up is due: attendance is in (newer than the last routing),
    or the wait for it has run out, and no routing has run since."""
    settings = load_settings()
    wait = timedelta(minutes=settings.route_after_minutes)
    last_run = (
        select(func.max(RoutingRun.ran_at))
        .where(RoutingRun.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )
    candidates = db.session.scalars(
        select(Event).where(
            Event.status == "published",
            Event.ends_at <= now,
            Event.ends_at > now - AUTO_ROUTE_WINDOW,
        )
    ).all()
    runs = dict(
        db.session.execute(
            select(Event.id, last_run).where(Event.id.in_([e.id for e in candidates]))
        ).all()
    )
    due = []
    for event in candidates:
        ran_at = runs.get(event.id)
        if event.attendance_imported_at is not None:
            if ran_at is None or ran_at < event.attendance_imported_at:
                due.append(event)
        elif ran_at is None and event.ends_at + wait <= now:
            due.append(event)
    return due


def route_due_events(now: datetime | None = None) -> int:
    """The worker's periodic call: route every event whose follow-up is due (see
    `due_events`). Returns how many follow-ups it created."""
    now = now or utcnow()
    created = 0
    for event in due_events(now):
        try:
            created += route_followups(event.id, trigger="worker", now=now).created
        except RoutingRefused:
            # Cancelled or moved since it was listed; the next pass lists it again if due.
            continue
    return created


def escalate_overdue(now: datetime | None = None) -> list[Escalation]:
    """Take open follow-ups overdue by the configured time from their rep and route them again
    by the rules (never back to the same rep), or flag them to admins when no one else fits.

    The reason is recorded; both reps (or the rep and the admins) are told by email.
    """
    now = now or utcnow()
    with writing():
        _lock_routing()
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
        escalations = []
        for followup in overdue:
            escalations.append(_escalate(followup, router, campaigns, settings, now))
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
        ).all()
    )


def _escalate(
    followup: FollowUp,
    router: Router,
    campaigns: dict[int, str | None],
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
        segment=segment_of(registration.answers if registration is not None else None),
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


def _follow_ups(count: int) -> str:
    return f"{count} follow-up{'s' if count != 1 else ''}"
