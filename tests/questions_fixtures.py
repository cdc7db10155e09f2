"""An event with one question of each kind, and the landing form filled as a visitor does."""

from __future__ import annotations

import re
from typing import Any

from app.registrations.questions import add_built_in, add_question, change_question
from tests.builders import csrf_token

QUESTIONS: tuple[dict[str, Any], ...] = (
    {"key": "employees", "label": "Employees", "type": "number"},
    {
        "key": "procurement",
        "label": "Procurement involved",
        "type": "checkbox",
        "required": True,
        "show_if": {"key": "company_size", "equals": "1000+"},
    },
    {"key": "topics", "label": "Topics", "type": "multiselect", "options": ["Routing", "Reports"]},
    {"key": "hq", "label": "Headquarters", "type": "country"},
    {"key": "notes", "label": "Anything else?", "type": "textarea"},
    {"key": "partner", "label": "Partner", "type": "hidden"},
)
ERROR_ID = re.compile(r'id="q-([a-z0-9_]+)-error"')


def ask_every_kind(event_id: int) -> None:
    """Company size (required, mapped to routing) first, then one question of each type."""
    change_question(add_built_in(event_id, "company_size"), {"required": True})
    for values in QUESTIONS:
        add_question(event_id, values)


def post_landing_form(client: Any, slug: str, email: str, answers: dict[str, Any]) -> Any:
    """Fill in the landing form (the person's fields, and `answers` by input name) and send it."""
    page = client.get(f"/e/{slug}")
    data: dict[str, Any] = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": email,
        "first_name": "Ada",
        **answers,
    }
    return client.post(f"/e/{slug}", data=data)


def form_errors(response: Any) -> set[str]:
    """The answers the landing form marks as wrong, named as the API names them."""
    return {f"answers.{key}" for key in ERROR_ID.findall(response.get_data(as_text=True))}
