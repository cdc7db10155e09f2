"""An event's own registration questions: adding, changing, ordering and removing them (for
the console and the API alike), the built-in qualifying questions, and the routing facts
their answers stand for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, update

from app import fields
from app.db import column_length, db, utcnow
from app.events.models import Event
from app.refusals import Refusal
from app.registrations.models import QUESTION_TYPES, ROUTING_FACTS, Question

KEY = re.compile(r"^[a-z0-9_]+$")
KEY_LENGTH = column_length(Question, "key")
LABEL_LENGTH = column_length(Question, "label")
HELP_LENGTH = column_length(Question, "help")
OPTION_LENGTH = 200
MAX_OPTIONS = 50
MAX_QUESTIONS = 50
CHOICE_TYPES = ("select", "multiselect")
# The bands routing reads as smb, mid-market and enterprise (`app.followup.rules.segment_of`
# takes a band's first number as the head count).
COMPANY_SIZE_BANDS = ("1-99", "100-999", "1000+")
# The fields a question is given by, in the order the API and the console name them.
FIELDS = ("key", "label", "help", "type", "options", "required", "show_if", "maps_to", "position")

# The qualifying questions a marketer adds in one click.
BUILT_INS: dict[str, dict[str, Any]] = {
    "company_size": {
        "label": "Company size",
        "help": "Number of employees.",
        "type": "select",
        "options": list(COMPANY_SIZE_BANDS),
        "maps_to": "company_size",
    },
    "industry": {
        "label": "Industry",
        "type": "select",
        "options": [
            "Software and internet",
            "Financial services",
            "Healthcare",
            "Manufacturing",
            "Retail and consumer goods",
            "Education",
            "Government and non-profit",
            "Media and marketing",
            "Other",
        ],
    },
    "heard_about_us": {
        "label": "How did you hear about us?",
        "type": "select",
        "options": [
            "Search engine",
            "Social media",
            "Email or newsletter",
            "Colleague or friend",
            "Event or conference",
            "Partner",
            "Other",
        ],
    },
    "seniority": {
        "label": "Role / seniority",
        "type": "select",
        "options": [
            "Individual contributor",
            "Manager",
            "Director",
            "Vice president",
            "C-level or owner",
            "Student",
            "Other",
        ],
    },
}


class QuestionRefused(Refusal):
    """A question definition the rules refuse; `fields` names each field and why."""

    default_message = "The question was not saved."


# Built once, as every registration asks it (see `app.events.services.by_slug`).
_QUESTIONS_OF = (
    select(Question)
    .where(Question.event_id == bindparam("event_id"))
    .order_by(Question.position, Question.id)
)


def questions_of(event_id: int) -> list[Question]:
    """The event's questions in the order the form asks them."""
    return list(db.session.scalars(_QUESTIONS_OF, {"event_id": event_id}))


def find_question(event_id: int, key: str) -> Question | None:
    return db.session.scalar(
        select(Question).where(Question.event_id == event_id, Question.key == key)
    )


def add_question(event_id: int, values: dict[str, Any]) -> Question:
    """Add a question (last, unless `position` says where), and commit."""
    present = questions_of(event_id)
    if len(present) >= MAX_QUESTIONS:
        raise QuestionRefused(f"An event asks at most {MAX_QUESTIONS} questions.")
    question = Question(event_id=event_id, help="", options=[], required=False)
    wanted = {"position": max((q.position for q in present), default=0) + 1, **values}
    _apply(question, wanted, present)
    db.session.add(question)
    _page_changed(event_id)
    db.session.commit()
    return question


def add_built_in(event_id: int, name: str) -> Question:
    """Add one of the built-in qualifying questions under its own key."""
    if name not in BUILT_INS:
        raise QuestionRefused(fields={"built_in": "Choose one of the built-in questions."})
    return add_question(event_id, {"key": name, **BUILT_INS[name]})


def change_question(question: Question, values: dict[str, Any]) -> Question:
    """Change some of a question's fields (never its key: the answers given are kept under
    it), and commit. Answers already given stay as they were."""
    if "key" in values and values["key"] != question.key:
        raise QuestionRefused(
            fields={"key": "A question's key cannot change: the answers given are kept under it."}
        )
    others = [q for q in questions_of(question.event_id) if q.id != question.id]
    _apply(question, values, others)
    _page_changed(question.event_id)
    db.session.commit()
    return question


def remove_question(question: Question) -> None:
    """Stop asking a question; the answers given stay in each registration, under its key.

    Questions asked only on its answer are asked always from now on."""
    for other in questions_of(question.event_id):
        if other.show_if and other.show_if.get("key") == question.key:
            other.show_if = None
    db.session.delete(question)
    _page_changed(question.event_id)
    db.session.commit()


def move_question(question: Question, offset: int) -> None:
    """Move a question up (-1) or down (+1) the form; positions are renumbered 1, 2, 3…"""
    ordered = questions_of(question.event_id)
    index = ordered.index(question)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered, start=1):
        each.position = position
    _page_changed(question.event_id)
    db.session.commit()


def _page_changed(event_id: int) -> None:
    # The questions are part of the event's landing page, kept per event version
    # (`landing_cache`): a change of them is a new version of the event.
    db.session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def routing_facts(event_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Per event, which question key stands for which routing fact (`segment`,
    `company_size`): what routing reads in a registration's answers."""
    facts: dict[int, dict[str, str]] = {}
    rows = db.session.execute(
        select(Question.event_id, Question.key, Question.maps_to).where(
            Question.event_id.in_(set(event_ids)), Question.maps_to.is_not(None)
        )
    )
    for event_id, key, fact in rows:
        facts.setdefault(event_id, {})[key] = fact
    return facts


def _apply(question: Question, values: dict[str, Any], others: list[Question]) -> None:
    """Check the question as it would be with `values`, and set them; QuestionRefused names
    every field that is wrong."""
    merged = {name: getattr(question, name) for name in FIELDS} | values
    problems: dict[str, str] = {}
    checks = (
        ("key", _key, (others,)),
        ("label", _label, ()),
        ("help", _help, ()),
        ("type", _type, ()),
        ("options", _options, (merged.get("type"),)),
        ("required", _flag, ()),
        ("show_if", _condition, (merged.get("key"), others)),
        ("maps_to", _fact, (others,)),
        ("position", _position, ()),
    )
    clean: dict[str, Any] = {}
    for name, check, extra in checks:
        try:
            clean[name] = check(merged.get(name), *extra)
        except fields.InvalidValue as exc:
            problems[name] = str(exc)
    if problems:
        raise QuestionRefused(fields=problems)
    for name, value in clean.items():
        setattr(question, name, value)


def _key(value: Any, others: list[Question]) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if not key or len(key) > KEY_LENGTH or not KEY.match(key):
        raise fields.InvalidValue(
            f"Use 1 to {KEY_LENGTH} lower-case letters, digits and underscores, such as "
            "company_size."
        )
    if any(other.key == key for other in others):
        raise fields.InvalidValue("Another question of this event has this key.")
    return key


def _one_line(value: Any, limit: int) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else None
    if text is None:
        raise fields.InvalidValue("Give text.")
    if fields.CONTROL_IN_LINE.search(value):
        raise fields.InvalidValue("Remove the invisible control characters.")
    if problem := fields.length_problem(text, limit):
        raise fields.InvalidValue(problem)
    return text


def _label(value: Any) -> str:
    label = _one_line(value or "", LABEL_LENGTH)
    if not label:
        raise fields.InvalidValue("Give the question a label: the words the form shows.")
    return label


def _help(value: Any) -> str:
    return _one_line(value or "", HELP_LENGTH)


def _type(value: Any) -> str:
    if value not in QUESTION_TYPES:
        raise fields.InvalidValue("Use one of: " + ", ".join(QUESTION_TYPES) + ".")
    return str(value)


def _options(value: Any, kind: Any) -> list[str]:
    options = value or []
    if not isinstance(options, list) or not all(isinstance(item, str) for item in options):
        raise fields.InvalidValue("Give the options as a list of text.")
    cleaned = list(dict.fromkeys(" ".join(item.split()) for item in options))
    if kind not in CHOICE_TYPES:
        if cleaned:
            raise fields.InvalidValue("Only select and multiselect questions have options.")
        return []
    if not cleaned or "" in cleaned:
        raise fields.InvalidValue("Give at least one option, none of them blank.")
    if len(cleaned) > MAX_OPTIONS:
        raise fields.InvalidValue(f"Give at most {MAX_OPTIONS} options.")
    for option in cleaned:
        if fields.CONTROL_IN_LINE.search(option) or len(option) > OPTION_LENGTH:
            raise fields.InvalidValue(f"Keep each option to {OPTION_LENGTH} printable characters.")
    return cleaned


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fields.InvalidValue("Use true or false.")
    return value


def _condition(value: Any, key: Any, others: list[Question]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key", "equals"}:
        raise fields.InvalidValue('Give {"key": …, "equals": …}, or null to always ask.')
    by_key = {other.key: other for other in others}
    parent = by_key.get(value["key"])
    if parent is None or value["key"] == key:
        raise fields.InvalidValue("Name another question of this event in `key`.")
    # A chain of conditions that came back to this question would ask none of them.
    ancestor: Question | None = parent
    seen: set[str] = set()
    while ancestor is not None and ancestor.show_if and ancestor.key not in seen:
        seen.add(ancestor.key)
        if ancestor.show_if.get("key") == key:
            raise fields.InvalidValue(
                f"{parent.key!r} is itself asked only on this question's answer."
            )
        ancestor = by_key.get(ancestor.show_if.get("key", ""))
    equals = value["equals"]
    if isinstance(equals, str):
        equals = equals.strip()
    if not isinstance(equals, str | bool | int | float) or equals == "":
        raise fields.InvalidValue("Give the answer to match in `equals`: text, a number or a flag.")
    if parent.type in CHOICE_TYPES and equals not in parent.options:
        raise fields.InvalidValue(f"Use one of the options of {parent.key!r} in `equals`.")
    return {"key": parent.key, "equals": equals}


def _fact(value: Any, others: list[Question]) -> str | None:
    if value is None:
        return None
    if value not in ROUTING_FACTS:
        raise fields.InvalidValue("Use null, segment or company_size.")
    if any(other.maps_to == value for other in others):
        raise fields.InvalidValue(f"Another question of this event already gives {value}.")
    return str(value)


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
        raise fields.InvalidValue("Use a whole number from 0 to 10000.")
    return value
