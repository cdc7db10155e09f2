"""Console pages for an event's registration questions: add (or add a built-in qualifying
question in one click), edit, reorder and remove them, through the questions service."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.events import event_or_404
from app.admin.forms import check_action
from app.admin.question_forms import FIELD_FOR, QuestionForm
from app.auth.access import roles_required
from app.db import db
from app.events.models import Event
from app.pages import flash_refusal, show_refusal
from app.refusals import Refusal
from app.registrations import questions
from app.registrations.models import Question


def _question_or_404(event: Event, key: str) -> Question:
    question = questions.find_question(event.id, key)
    if question is None:
        abort(404, "This event has no such question.")
    return question


def _back_to_event(event: Event) -> Response:
    return redirect(url_for("admin.event", slug=event.slug, _anchor="questions"), code=303)


@bp.route("/events/<slug>/questions/new", methods=["GET", "POST"])
@roles_required("marketer")
def new_question(slug: str) -> Any:
    return _question_page(event_or_404(slug), None)


@bp.route("/events/<slug>/questions/<key>", methods=["GET", "POST"])
@roles_required("marketer")
def edit_question(slug: str, key: str) -> Any:
    event = event_or_404(slug)
    return _question_page(event, _question_or_404(event, key))


def _question_page(event: Event, question: Question | None) -> Any:
    others = [q for q in questions.questions_of(event.id) if q is not question]
    editing = request.method == "GET" and question is not None
    form = QuestionForm.for_question(question) if editing and question else QuestionForm()
    form.offer_conditions(others)
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        values = form.values(others)
        try:
            if question is None:
                saved = questions.add_question(event.id, values)
            else:
                saved = questions.change_question(question, values)
        except Refusal as refusal:
            db.session.rollback()
            problems = show_refusal(form, refusal, FIELD_FOR)
        else:
            flash(f"Question “{saved.label}” saved.", "ok")
            return _back_to_event(event)
    return (
        render_template(
            "admin/question_form.html", event=event, form=form, question=question, problems=problems
        ),
        422 if request.method == "POST" else 200,
    )


@bp.post("/events/<slug>/questions/add-built-in")
@roles_required("marketer")
def add_built_in_question(slug: str) -> Response:
    event = event_or_404(slug)
    check_action()
    try:
        added = questions.add_built_in(event.id, request.form.get("name", ""))
    except Refusal as refusal:
        db.session.rollback()
        flash_refusal(refusal, "The question was not added: ")
    else:
        flash(f"Question “{added.label}” added.", "ok")
    return _back_to_event(event)


@bp.post("/events/<slug>/questions/<key>/move")
@roles_required("marketer")
def move_question(slug: str, key: str) -> Response:
    event, question = _acted_on(slug, key)
    questions.move_question(question, -1 if request.form.get("direction") == "up" else 1)
    return _back_to_event(event)


@bp.post("/events/<slug>/questions/<key>/delete")
@roles_required("marketer")
def remove_question(slug: str, key: str) -> Response:
    event, question = _acted_on(slug, key)
    label = question.label
    questions.remove_question(question)
    flash(f"Question “{label}” removed; the answers already given are kept.", "ok")
    return _back_to_event(event)


def _acted_on(slug: str, key: str) -> tuple[Event, Question]:
    """The event and question a button names, once its form is known to be ours."""
    event = event_or_404(slug)
    check_action()
    return event, _question_or_404(event, key)
