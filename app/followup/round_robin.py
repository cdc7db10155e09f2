"""Weighted round-robin: the fair choice among a pool's reps, and its credits kept between runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from app.db import db
from app.followup.models import RoundRobinCredit


class _Member(Protocol):
    id: int


# Whatever the pool holds (routing's reps); round-robin only needs each member's id.
Member = TypeVar("Member", bound=_Member)


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

    def pick(self, pool: str, members: Sequence[tuple[Member, int]]) -> Member:
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
            known = state.get(rep_id)
            if known is None or not known[1]:
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
