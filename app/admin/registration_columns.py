"""The columns a staff member chooses for the registrations table, remembered per user.

The choice lives in a cookie named for the user (a display preference: nothing in it is
trusted, every key is checked against what an event can show), so it holds on every event's
table in that browser. Without a choice the table is as it always was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.events import event_or_404
from app.admin.forms import check_action
from app.auth.access import roles_required, safe_next, staff_user
from app.registrations.models import Question
from app.registrations.questions import KEY, KEY_LENGTH, questions_of

# The columns any event can show, in table order; a column per question comes after
# "answers", as `q:<key>`. Name and email, and the row's actions, are always shown.
COLUMNS = (
    ("company", "Company and job title"),
    ("answers", "All answers (under the company)"),
    ("country", "Country"),
    ("utm_source", "UTM source"),
    ("consent", "Marketing consent"),
    ("status", "Status"),
    ("payment", "Payment (paid events)"),
    ("registered", "Registered"),
)
DEFAULT = ("company", "answers", "status", "payment", "registered")
QUESTION_PREFIX = "q:"
_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    chosen: bool

    @property
    def question_key(self) -> str | None:
        """The question's key for a column of its answers; None for the other columns."""
        return self.key.removeprefix(QUESTION_PREFIX) if self.is_question else None

    @property
    def is_question(self) -> bool:
        return self.key.startswith(QUESTION_PREFIX)


def offered(questions: Sequence[Question]) -> list[tuple[str, str]]:
    """Every column the event's table can show, in table order."""
    fixed = dict(COLUMNS)
    keys = [key for key, _label in COLUMNS]
    at = keys.index("answers") + 1
    asked = [(QUESTION_PREFIX + q.key, q.label) for q in questions]
    ordered = [(key, fixed[key]) for key in keys[:at]] + asked
    return ordered + [(key, fixed[key]) for key in keys[at:]]


def columns_for(questions: Sequence[Question]) -> list[Column]:
    """The event's columns, each marked chosen or not by the signed-in user's choice."""
    chosen = _chosen()
    return [Column(key, label, key in chosen) for key, label in offered(questions)]


def _cookie_name() -> str:
    user = staff_user()
    return f"registration_columns_{user.id if user is not None else 0}"


def _chosen() -> set[str]:
    raw = request.cookies.get(_cookie_name())
    if raw is None:
        return set(DEFAULT)
    return set(_valid(raw.split(",")))


def _valid(keys: Iterable[str]) -> list[str]:
    known = {key for key, _label in COLUMNS}

    def is_question(key: str) -> bool:
        asked = key.removeprefix(QUESTION_PREFIX)
        return key != asked and len(asked) <= KEY_LENGTH and KEY.fullmatch(asked) is not None

    # At most 60 question columns: with their keys at most 40 characters, the cookie stays
    # under the 4 KB browsers keep.
    return [key for key in keys if key in known or is_question(key)][:60]


@bp.post("/events/<slug>/registrations/columns")
@roles_required("marketer")
def choose_columns(slug: str) -> Response:
    """Remember the ticked columns; "reset" goes back to the table as it always was."""
    event = event_or_404(slug)
    check_action()
    back = safe_next(request.form.get("back")) or url_for("admin.registrations", slug=event.slug)
    response = redirect(back, code=303)
    if request.form.get("reset"):
        response.delete_cookie(_cookie_name(), path="/admin")
        return response
    # Question columns of other events stay chosen: the same key is the same question there.
    kept = {key for key in _chosen() if key.startswith(QUESTION_PREFIX)}
    shown_here = {key for key, _label in offered(questions_of(event.id))}
    chosen = (kept - shown_here) | set(_valid(request.form.getlist("column")))
    response.set_cookie(
        _cookie_name(),
        ",".join(sorted(chosen)),
        max_age=_YEAR,
        path="/admin",
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
