"""/api/v1/events/<slug>/questions: an event's registration questions, read by anyone while
the event is published and kept by admins and marketers, through the questions service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api import auth
from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.events import event_or_404, find_event
from app.api.lists import Page, paginate
from app.api.schemas.common import ListArgs
from app.api.schemas.questions import QuestionIn, QuestionOut, QuestionPage, QuestionPatch
from app.registrations import questions
from app.registrations.models import Question

blp = ApiBlueprint(
    "Questions",
    __name__,
    url_prefix="/api/v1/events",
    description="An event's own registration questions, answered in a registration's `answers`.",
)


def _question(slug: str, key: str) -> Question:
    question = questions.find_question(event_or_404(slug).id, key)
    if question is None:
        fail(404, f"The event {slug!r} has no question {key!r}.")
    return question


@blp.route("/<slug>/questions", methods=["GET"])
@blp.allow(anyone=True)
@blp.arguments(ListArgs, location="query")
@blp.response(200, QuestionPage)
@blp.alt_response(404, response="NOT_FOUND")
def list_questions(args: dict[str, Any], slug: str) -> Page:
    """List an event's questions in the order the form asks them: anyone's for a published
    event, staff's for an event in any status."""
    event = find_event(slug)
    if event is None or (event.status != "published" and auth.caller() is None):
        fail(404, f"There is no open event with the slug {slug!r}.")
    statement = (
        select(Question)
        .where(Question.event_id == event.id)
        .order_by(Question.position, Question.id)
    )
    return paginate(statement, args)


@blp.route("/<slug>/questions", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.arguments(QuestionIn)
@blp.response(201, QuestionOut)
@blp.alt_response(404, response="NOT_FOUND")
def create_question(values: dict[str, Any], slug: str) -> Question:
    """Add a question to an event's registration form.

    Refused with 422 naming the field, beyond what the schema says: a key another question
    of the event has, options on a type without them (or none on a choice), a `show_if`
    naming no other question of the event or an option it does not offer, or a `maps_to`
    another question already gives.
    """
    return questions.add_question(event_or_404(slug).id, values)


@blp.route("/<slug>/questions/<key>", methods=["PATCH"])
@blp.allow(*MANAGERS)
@blp.arguments(QuestionPatch(partial=True))
@blp.response(200, QuestionOut)
@blp.alt_response(404, response="NOT_FOUND")
def change_question(values: dict[str, Any], slug: str, key: str) -> Question:
    """Change some of a question's fields; the answers already given stay as they were."""
    return questions.change_question(_question(slug, key), values)


@blp.route("/<slug>/questions/<key>", methods=["DELETE"])
@blp.allow(*MANAGERS)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_question(slug: str, key: str) -> None:
    """Stop asking a question; the answers given stay in each registration, under its key."""
    questions.remove_question(_question(slug, key))
