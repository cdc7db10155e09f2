"""The API's question schemas: an event's registration question as staff add, change and
anyone reads it (the questions service checks the rest, such as a condition's question)."""

from __future__ import annotations

from marshmallow import fields as mf

from app.api.schemas.common import OneOf, Schema, Text, Whole, page_of
from app.registrations import questions
from app.registrations.models import QUESTION_TYPES, ROUTING_FACTS


class Condition(Schema):
    key = Text(required=True, max_length=questions.KEY_LENGTH)
    equals = mf.Raw(
        required=True,
        metadata={
            "description": "The answer that shows the question: an option, text, a number, "
            "or true/false for a checkbox (for a multiselect: one of the options chosen).",
        },
    )


_DOCS = {
    "key": "Lower-case letters, digits and `_`, unique per event: the question's name in a "
    "registration's `answers`. It cannot change, so the answers given stay readable.",
    "options": "The choices of a `select` or `multiselect` question; none for other types.",
    "show_if": "Ask only when question `key` is answered `equals`; null to always ask. A "
    "question not asked is never required, and its answer is dropped.",
    "maps_to": "The routing fact the answer stands for: `segment` (as given) or "
    "`company_size` (a number, or a band such as `1-99`, `100-999`, `1000+`).",
    "position": "Lower first; a new question goes last unless given.",
}


class QuestionIn(Schema):
    """A question as staff add it; PATCH takes any subset of these fields but `key`."""

    key = Text(
        required=True,
        max_length=questions.KEY_LENGTH,
        metadata={"description": _DOCS["key"], "pattern": questions.KEY.pattern},
    )
    label = Text(required=True, max_length=questions.LABEL_LENGTH)
    help = Text(max_length=questions.HELP_LENGTH)
    type = OneOf(QUESTION_TYPES, required=True)
    options = mf.List(
        Text(required=True, max_length=questions.OPTION_LENGTH),
        metadata={"description": _DOCS["options"], "maxItems": questions.MAX_OPTIONS},
    )
    required = mf.Boolean()
    show_if = mf.Nested(Condition, allow_none=True, metadata={"description": _DOCS["show_if"]})
    maps_to = OneOf(ROUTING_FACTS, allow_none=True, metadata={"description": _DOCS["maps_to"]})
    position = Whole(0, 10_000, metadata={"description": _DOCS["position"]})


class QuestionPatch(QuestionIn):
    class Meta:
        exclude = ("key",)


class QuestionOut(Schema):
    key = mf.String(required=True, metadata={"description": _DOCS["key"]})
    label = mf.String(required=True)
    help = mf.String(required=True)
    type = mf.String(required=True, metadata={"enum": list(QUESTION_TYPES)})
    options = mf.List(mf.String(), required=True)
    required = mf.Boolean(required=True)
    show_if = mf.Nested(Condition, required=True, allow_none=True)
    maps_to = mf.String(required=True, allow_none=True, metadata={"enum": list(ROUTING_FACTS)})
    position = mf.Integer(required=True)


QuestionPage = page_of(QuestionOut, "QuestionPage")
