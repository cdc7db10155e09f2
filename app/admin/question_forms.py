"""The console's question form: a registration question as a marketer writes it, options one
per line and the condition as a question and an answer; the questions service checks the rest
and its messages are shown next to the same fields."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are for 3.2
from wtforms.validators import Length, Optional

from app.registrations.answers import answer_text, number_or_text
from app.registrations.models import QUESTION_TYPES, ROUTING_FACTS, Question
from app.registrations.questions import HELP_LENGTH, KEY_LENGTH, LABEL_LENGTH

TYPE_LABELS = {
    "text": "Short text",
    "textarea": "Long text",
    "select": "Single choice",
    "multiselect": "Multiple choice",
    "checkbox": "Checkbox",
    "number": "Number",
    "country": "Country",
    "hidden": "Hidden (filled from the page address)",
}
FACT_LABELS = {"segment": "Segment", "company_size": "Company size"}
# Which form field shows a message the questions service gives for one of its fields.
FIELD_FOR = {"show_if": "show_if_key", "position": None}


class QuestionForm(FlaskForm):
    key = StringField("Key", validators=[Length(max=KEY_LENGTH)])
    label = StringField("Label", validators=[Length(max=LABEL_LENGTH)])
    help = StringField("Help text", validators=[Optional(), Length(max=HELP_LENGTH)])
    type = SelectField(
        "Type",
        choices=[SelectChoice(kind, TYPE_LABELS[kind]) for kind in QUESTION_TYPES],
        default="text",
    )
    options = TextAreaField("Options", validators=[Optional(), Length(max=12_000)])
    required = BooleanField("Required")
    show_if_key = SelectField("Ask only if the question", validate_choice=False, default="")
    show_if_equals = StringField("is answered", validators=[Optional(), Length(max=200)])
    maps_to = SelectField(
        "Routing fact",
        choices=[
            SelectChoice("", "None"),
            *(SelectChoice(fact, FACT_LABELS[fact]) for fact in ROUTING_FACTS),
        ],
        default="",
    )

    @classmethod
    def for_question(cls, question: Question) -> QuestionForm:
        condition = question.show_if or {}
        return cls(
            data={
                "key": question.key,
                "label": question.label,
                "help": question.help,
                "type": question.type,
                "options": "\n".join(question.options),
                "required": question.required,
                "show_if_key": condition.get("key", ""),
                "show_if_equals": answer_text(condition.get("equals")),
                "maps_to": question.maps_to or "",
            }
        )

    def offer_conditions(self, others: list[Question]) -> None:
        """The questions a condition may name: the event's others."""
        self.show_if_key.choices = [
            SelectChoice("", "Always ask"),
            *(SelectChoice(q.key, q.label) for q in others),
        ]

    def values(self, others: list[Question]) -> dict[str, Any]:
        """The service's values; the condition's answer read as the named question keeps its
        answers (yes/no for a checkbox, a number for a number)."""
        lines = (self.options.data or "").splitlines()
        kind = self.type.data
        condition = None
        if self.show_if_key.data:
            parent = next((q for q in others if q.key == self.show_if_key.data), None)
            equals: Any = (self.show_if_equals.data or "").strip()
            if parent is not None and parent.type == "checkbox":
                equals = equals.lower() in ("yes", "true", "y")
            elif parent is not None and parent.type == "number":
                equals = number_or_text(equals)
            condition = {"key": self.show_if_key.data, "equals": equals}
        return {
            "key": (self.key.data or "").strip(),
            "label": self.label.data or "",
            "help": self.help.data or "",
            "type": kind,
            "options": [line.strip() for line in lines if line.strip()],
            "required": bool(self.required.data),
            "show_if": condition,
            "maps_to": self.maps_to.data or None,
        }
