"""Answers to an event's own questions: the one check the landing form and the API share.

A question hidden by its `show_if` is never required and its answer is dropped, so what is
stored is what the registrant was asked. An event without questions keeps any answers object.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from babel.numbers import format_decimal
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app import fields
from app.languages import N_, current_language
from app.refusals import Refusal

# One-line answers (and hidden values) are kept to this length; long text to the other.
LINE_LENGTH = 500
TEXT_LENGTH = 2000
# Numbers beyond this are not answers anyone gives; JSON and floats keep them exact below it.
LARGEST_NUMBER = 10**15
FORM_PREFIX = "answers."


class Asked(Protocol):
    """What the check reads of a question (a `Question` row, or anything shaped like one)."""

    key: str
    type: str
    options: list[str]
    required: bool
    show_if: dict[str, Any] | None


class AnswersRefused(Refusal):
    """Answers the event's questions refuse; `fields` names each as `answers.<key>`."""

    default_message = N_("Some answers are not valid; see the questions marked.")


def field_name(key: str) -> str:
    """The name an answer has in a refusal's fields and in the landing form's inputs."""
    return FORM_PREFIX + key


def checked_answers(
    questions: Sequence[Asked], answers: Mapping[str, Any], *, complete: bool = True
) -> dict[str, Any]:
    """The answers to store, in the form each question's type keeps them; AnswersRefused
    naming every answer that is missing, not offered, of the wrong type or not asked.

    `complete=False` (staff adding someone by hand) leaves required questions unanswered.
    """
    if not questions:
        return dict(answers)
    problems = {
        field_name(key): N_("This is not one of this event's questions.")
        for key in answers
        if key not in {question.key for question in questions}
    }
    typed: dict[str, Any] = {}
    wrong: dict[str, str] = {}
    for question in questions:
        value = answers.get(question.key)
        if _blank(value):
            continue
        try:
            typed[question.key] = _typed(question, value)
        except fields.InvalidValue as exc:
            wrong[question.key] = str(exc)
    clean = {}
    for question in shown(questions, typed):
        if question.key in wrong:
            problems[field_name(question.key)] = wrong[question.key]
        elif question.key in typed:
            clean[question.key] = typed[question.key]
        if complete and question.required and not _answered(question, typed.get(question.key)):
            problems.setdefault(field_name(question.key), _missing(question))
    if problems:
        raise AnswersRefused(fields=problems)
    return clean


def shown(questions: Sequence[Asked], answers: Mapping[str, Any]) -> list[Asked]:
    """The questions asked, given these answers: each one whose `show_if` question is itself
    shown and answered with the value it names (or, for a multiple choice, includes it)."""
    by_key = {question.key: question for question in questions}

    def is_shown(question: Asked, seen: frozenset[str]) -> bool:
        condition = question.show_if
        if not condition:
            return True
        parent = by_key.get(condition.get("key", ""))
        # A condition on a missing question, or a loop of conditions, shows nothing.
        if parent is None or parent.key in seen:
            return False
        answer = answers.get(parent.key)
        wanted = condition.get("equals")
        matches = wanted in answer if isinstance(answer, list) else answer == wanted
        return matches and is_shown(parent, seen | {question.key})

    return [question for question in questions if is_shown(question, frozenset())]


def from_form(questions: Sequence[Asked], form: MultiDict[str, str]) -> dict[str, Any]:
    """The answers a landing-form POST gives, as the API would send them: a ticked box is
    true, a number is a number when it reads as one (else the check refuses the text)."""
    answers: dict[str, Any] = {}
    for question in questions:
        name = field_name(question.key)
        if question.type == "multiselect":
            answers[question.key] = form.getlist(name)
        elif question.type == "checkbox":
            answers[question.key] = name in form
        elif question.type == "number":
            answers[question.key] = number_or_text(form.get(name, ""))
        elif question.type == "hidden":
            answers[question.key] = tracking_value(form.get(name))
        else:
            answers[question.key] = form.get(name, "")
    return answers


def answer_text(value: Any) -> str:
    """An answer as people read it (in a CSV cell, on a detail page)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def labelled(questions: Sequence[Any], answers: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, answer) for each question answered, in the form's order; then the answers no
    question asks any more (removed, or sent to an event without questions) under their key."""
    answers = answers or {}
    asked = {question.key for question in questions}
    shown = [
        (question.label, answer_text(answers[question.key]))
        for question in questions
        if question.key in answers
    ]
    return shown + [(key, answer_text(value)) for key, value in answers.items() if key not in asked]


def tracking_value(value: str | None) -> str | None:
    """A hidden question's value from the page's address: not the visitor's to fix, so it
    is cleaned and trimmed rather than refused."""
    return fields.CONTROL_IN_LINE.sub("", value or "").strip()[:LINE_LENGTH] or None


def number_or_text(text: str) -> Any:
    """Typed text as the number it reads as, or the text itself when it is none."""
    cleaned = text.strip().replace(",", "")
    for kind in (int, float):
        try:
            return kind(cleaned)
        except ValueError:
            continue
    return text


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _answered(question: Asked, value: Any) -> bool:
    # A required checkbox is a box to tick ("I agree"): false does not answer it.
    return value is True if question.type == "checkbox" else value is not None


def _missing(question: Asked) -> str:
    if question.type == "checkbox":
        return N_("Tick this box to register.")
    if question.type in ("select", "multiselect", "country"):
        return N_("Choose an answer to this question.")
    return N_("Answer this question.")


def _typed(question: Asked, value: Any) -> Any:
    kind = question.type
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise fields.InvalidValue(N_("Answer true or false."))
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fields.InvalidValue(N_("Give a number, such as 250."))
        if not math.isfinite(value) or abs(value) > LARGEST_NUMBER:
            largest = format_decimal(LARGEST_NUMBER, locale=current_language())
            raise fields.InvalidValue(
                gettext("Give a number no larger than %(largest)s.", largest=largest)
            )
        return int(value) if float(value).is_integer() else value
    if kind == "multiselect":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fields.InvalidValue(N_("Give the chosen options as a list."))
        chosen = list(dict.fromkeys(item.strip() for item in value))
        if any(item not in question.options for item in chosen):
            raise fields.InvalidValue(_choose_from(question.options))
        return chosen
    if not isinstance(value, str):
        raise fields.InvalidValue(N_("Answer with text."))
    text = value.strip()
    if kind == "country":
        return fields.country_code(text)
    if kind == "select":
        if text not in question.options:
            raise fields.InvalidValue(_choose_from(question.options))
        return text
    long_text = kind == "textarea"
    forbidden = fields.CONTROL_IN_TEXT if long_text else fields.CONTROL_IN_LINE
    if forbidden.search(text):
        raise fields.InvalidValue(N_("Remove the invisible control characters from this answer."))
    if problem := fields.length_problem(text, TEXT_LENGTH if long_text else LINE_LENGTH):
        raise fields.InvalidValue(problem)
    return text


def _choose_from(options: Sequence[str]) -> str:
    return gettext("Choose one of: %(options)s.", options=", ".join(options))
