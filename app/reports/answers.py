"""How an event's registrants answered its choice questions: counts per option, for the
event's report page.

Counted over the registrations the report calls registered (no cancellations, no walk-ins),
so each breakdown's base is the report's Registered figure. Answers live in a JSON column
that SQLite and PostgreSQL query differently, so they are counted here, a batch at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.fields import country_name
from app.registrations.answers import answer_text
from app.registrations.models import Registration
from app.registrations.questions import questions_of
from app.reports.figures import REGISTERED

CHOICE_TYPES = ("select", "multiselect", "checkbox", "country")
BATCH = 1000


@dataclass(frozen=True)
class Breakdown:
    """One choice question: how many registrants chose each option, and how many gave none.

    A multiselect's counts add up to more than `answered`: one person can choose several."""

    key: str
    label: str
    type: str
    options: list[tuple[str, int]]
    answered: int
    unanswered: int

    @property
    def registered(self) -> int:
        return self.answered + self.unanswered


def answer_breakdowns(event: Event) -> list[Breakdown]:
    """One breakdown per choice question of the event, in the form's order."""
    questions = [q for q in questions_of(event.id) if q.type in CHOICE_TYPES]
    if not questions:
        return []
    counts: dict[str, Counter[Any]] = {question.key: Counter() for question in questions}
    answered: Counter[str] = Counter()
    total = 0
    result = db.session.execute(
        select(Registration.answers)
        .where(Registration.event_id == event.id, REGISTERED)
        .execution_options(yield_per=BATCH)
    )
    for (answers,) in result:
        total += 1
        given = answers if isinstance(answers, dict) else {}
        for key, counter in counts.items():
            value = given.get(key)
            chosen = value if isinstance(value, list) else [] if value is None else [value]
            if chosen:
                answered[key] += 1
            counter.update(chosen)
    return [
        Breakdown(
            key=question.key,
            label=question.label,
            type=question.type,
            options=_in_order(question.type, question.options, counts[question.key]),
            answered=answered[question.key],
            unanswered=total - answered[question.key],
        )
        for question in questions
    ]


def _in_order(kind: str, offered: list[str], counts: Counter[Any]) -> list[tuple[str, int]]:
    """Offered options first, in the form's order (chosen or not); then answers no longer
    offered; a checkbox as yes then no; countries by name, the most chosen first."""
    if kind == "checkbox":
        return [("yes", counts[True]), ("no", counts[False])]
    if kind == "country":
        ranked = sorted(counts.items(), key=lambda item: (-item[1], country_name(item[0])))
        return [(country_name(code) or str(code), count) for code, count in ranked]
    others = [value for value in counts if value not in offered]
    return [(answer_text(value), counts[value]) for value in [*offered, *others]]
