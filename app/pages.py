"""What every HTML page shares: time formatting in a named zone, friendly error pages (in the
console's layout for staff pages), the favicon, and showing a service's refusal: next to the
form field it names, or in a flash message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, flash, g, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.db import db
from app.languages import (
    DEFAULT,
    N_,
    current_language,
    long_time,
    page_language,
    short_time,
    speak,
    translated,
    visitor_language,
)
from app.outage import outage_answer
from app.refusals import Refusal
from app.security import is_console

LONG = "%A %-d %B %Y, %H:%M"


def local_time(value: datetime, zone: str, fmt: str = LONG) -> str:
    """Format a UTC instant as the wall-clock time in `zone`, with the zone's abbreviation;
    in an event's language other than English, as that language writes dates (`fmt` then
    only picks the long form, with the weekday, or the short one)."""
    local = value.astimezone(ZoneInfo(zone))
    if current_language() != DEFAULT:
        return long_time(local) if fmt == LONG else short_time(local)
    return f"{local.strftime(fmt)} {local.tzname()}"


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if rest:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest))
    return " ".join(parts)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


# What a public error page says when the view gave no words of its own (Werkzeug's are for
# developers, and English only).
PLAIN_WORDS = {
    400: N_("Something in this request was not right. Go back and try again."),
    404: N_("There is nothing at this address. Check that you copied the whole link."),
    405: N_("This page cannot be used that way. Go back and try again."),
    409: N_("This could not be done now. Reload the page and try again."),
    410: N_("This link is no longer valid."),
    413: N_("What you sent is too large."),
    429: N_(
        "Too many requests came from your address in a short while. Wait a minute, then try again."
    ),
    500: N_("Something went wrong on our side. Please try again in a minute."),
}
CSRF_EXPIRED = N_("This form has expired. Go back, reload the page and try again.")


def _error_page(code: int, message: str | None, error: HTTPException | None = None) -> str:
    """The error page in the layout of the part of the site the visitor was in."""
    # Staff pages (the console, the reps' lists, signing in) keep the console's layout.
    if is_console(request.path):
        try:
            return render_template("admin/error.html", code=code, message=message)
        except Exception:
            # The console's layout asks who is signed in; when that is what failed (the
            # database is gone), the plain page still tells the visitor something.
            current_app.logger.exception("the console's error page failed; the plain one instead")
    else:
        _speak_for_error(code)
        if error is not None and message == type(error).description:
            message = PLAIN_WORDS.get(code, PLAIN_WORDS[500] if code >= 500 else PLAIN_WORDS[400])
        message = translated(message) if message else message
    return render_template("error.html", code=code, message=message)


def _speak_for_error(code: int) -> None:
    """A public error page speaks its event's language: the view said it (`speak`) before it
    failed, or the address names the event (a landing page refused before its view ran, as
    a rate limit does); else the visitor's browser language."""
    if "language" in g:
        return
    slug = (request.view_args or {}).get("slug")
    language = None
    if slug and code < 500:
        # A 500 may come from the database itself: it is not asked again.
        from app.events.services import by_slug

        try:
            event = by_slug(str(slug))
        except SQLAlchemyError:
            db.session.rollback()
            event = None
        language = page_language(event) if event is not None else None
    speak(language or visitor_language())


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(duration, "duration")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return _error_page(400, CSRF_EXPIRED), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code == 500 and (answer := outage_answer(error)) is not None:
            return answer
        if _wants_json():
            return error
        return _error_page(error.code or 500, error.description, error), error.code or 500

    @app.get("/favicon.ico")
    def favicon() -> ResponseReturnValue:
        # Browsers ask for it at the root whatever the pages link to.
        assert app.static_folder is not None
        return send_from_directory(
            app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
        )


def show_refusal(
    form: FlaskForm, refusal: Refusal, names: Mapping[str, str | None] | None = None
) -> list[str]:
    """Put each of the refusal's field messages next to its form field; return the messages
    no field of the form shows (the refusal's own message when it names no field).

    `names` maps a service's field name to the form's where the two differ (`price_cents` is
    the form's `price`), or to None when the form has no field for it.
    """
    names = names or {}
    general = []
    for name, message in refusal.fields.items():
        target = names.get(name, name)
        field = form._fields.get(target) if target else None
        if field is None:
            general.append(message)
        else:
            field.errors = [*field.errors, message]
    return general if refusal.fields else [refusal.message]


def flash_refusal(refusal: Refusal, lead: str = "") -> None:
    """Say why the action was refused, for the page the browser is sent to next."""
    flash(lead + (" ".join(refusal.fields.values()) or refusal.message), "error")
