"""Personal links: a signed link per lead, for invitations sent from a marketing tool.

`/e/<slug>?p=<token>` names a lead, not an event, so one link serves every event's page. A
returning lead who opens it finds the form filled with what they told us before and the
questions they already answered left out; the email is the lead's own, whatever the form
sends back. The link shows its holder nothing but that prefill (it is their own link): an
existing registration is still answered with "check your email", never with its manage link.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from app.db import db
from app.registrations.answers import AnswersRefused, checked_answers, shown
from app.registrations.models import Lead, Question, Registration

PERSONAL_SALT = "personal-link"
# What the link fills in of the form: the lead's own fields, by their form names.
PREFILLED = ("first_name", "last_name", "company", "job_title", "country", "phone")


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PERSONAL_SALT)


def _email_mark(email: str) -> str:
    # The token carries a keyed mark of the address as well as the lead's id: a lead erased
    # (or an id reused by SQLite after one) no longer matches an old link. Keyed, so a link
    # seen by the marketing tool does not let anyone test guesses of the address.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:16]


def personal_token(lead: Lead) -> str:
    return str(_signer().dumps([lead.id, _email_mark(lead.email)]))


def personal_url(lead: Lead, slug: str) -> str:
    """The lead's link to the landing page of event `slug`."""
    return f"{current_app.config['BASE_URL']}/e/{slug}?p={personal_token(lead)}"


def lead_of(token: str | None) -> Lead | None:
    """The lead a personal link names; None for no token, a forged or tampered one, or a lead
    that is no longer held under that address."""
    if not token:
        return None
    try:
        payload = _signer().loads(token)
    except BadData:
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        return None
    lead = db.session.get(Lead, payload[0])
    if lead is None or not hmac.compare_digest(str(payload[1]), _email_mark(lead.email)):
        return None
    return lead


def known_answers(lead: Lead, questions: Sequence[Question]) -> dict[str, Any]:
    """The answers the lead already gave, under this event's question keys: for each question,
    the newest earlier registration's answer of the same key that this question still accepts
    (an option since removed is asked again). Hidden questions come from each visit's address."""
    earlier = db.session.scalars(
        select(Registration.answers)
        .where(Registration.lead_id == lead.id)
        .order_by(Registration.created_at.desc(), Registration.id.desc())
    ).all()
    known: dict[str, Any] = {}
    for question in questions:
        if question.type == "hidden":
            continue
        for answers in earlier:
            if question.key not in (answers or {}):
                continue
            try:
                checked = checked_answers(
                    [_alone(question)], {question.key: answers[question.key]}, complete=False
                )
            except AnswersRefused:
                continue
            if question.key in checked:
                known[question.key] = checked[question.key]
                break
    return known


@dataclass
class _Alone:
    """A question judged on its own: its condition belongs to the whole form, not to it."""

    key: str
    type: str
    options: list[str]
    required: bool
    show_if: dict[str, Any] | None = None


def _alone(question: Question) -> _Alone:
    return _Alone(question.key, question.type, question.options, required=False)


@dataclass(frozen=True)
class PersonalVisit:
    """A visit through a lead's personal link: who it names and what they already answered."""

    token: str
    lead: Lead
    known: dict[str, Any]

    def prefilled(self) -> dict[str, Any]:
        """The form's fields as the lead last gave them (blank ones left out)."""
        values = {name: getattr(self.lead, name) for name in PREFILLED}
        return {"email": self.lead.email} | {k: v for k, v in values.items() if v}

    def still_asked(self, questions: Sequence[Question]) -> tuple[list[Question], set[str]]:
        """The questions the form still asks, and the keys among them whose condition the
        known answers already decide (shown without it: the question it hangs on is not on
        the form). A question whose condition known answers rule out is not asked at all."""
        asked_given_known = {q.key for q in shown(questions, self.known)}
        still: list[Question] = []
        decided: set[str] = set()
        for question in questions:
            if question.key in self.known:
                continue
            parent = (question.show_if or {}).get("key")
            if parent in self.known:
                if question.key not in asked_given_known:
                    continue
                decided.add(question.key)
            still.append(question)
        return still, decided

    def with_known(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The form's answers with the skipped questions taking the stored ones."""
        return answers | self.known


def visit_of(token: str | None, questions: Sequence[Question]) -> PersonalVisit | None:
    lead = lead_of(token)
    if lead is None or token is None:
        return None
    return PersonalVisit(token=token, lead=lead, known=known_answers(lead, questions))
