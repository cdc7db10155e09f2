"""Public event pages that need no registration: the list of upcoming events."""

from __future__ import annotations

from flask import render_template

from app.events import bp
from app.events.services import upcoming_published


@bp.get("/")
def index() -> str:
    return render_template("events/index.html", events=upcoming_published())
