"""When the database fails mid-request: every request answers 503 with `Retry-After` (the API's
error shape under /api/, a friendly page elsewhere), never a 500 that claims nothing was done.

A connection refused or dropped, a server restarting, a pool with no connection to give: the
request may or may not have been carried out, and trying again in a moment is what helps. The
registration API's `Idempotency-Key` (app.api.idempotency) makes that retry safe to repeat.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from sqlalchemy import exc as sa

from app.db import db
from app.languages import speak, visitor_language
from app.security import is_console

# What a database that is down, restarting or out of connections raises (sqlalchemy wraps the
# driver's errors: psycopg's and sqlite3's OperationalError, InterfaceError).
OUTAGES: tuple[type[Exception], ...] = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # the pool had no connection to give within pool_timeout
)

API_MESSAGE = (
    "The database did not answer, so this request may or may not have been carried out. "
    "Try again after the number of seconds in `Retry-After`; a registration retried with the "
    "same `Idempotency-Key` header answers as the first attempt did if it went through."
)


def init_app(app: Flask) -> None:
    for kind in OUTAGES:
        app.register_error_handler(kind, _answer)


def is_outage(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it, or the error a 500 wraps) is the database failing."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OUTAGES):
            return True
        if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
            return True
        error = getattr(error, "original_exception", None) or error.__cause__ or error.__context__
    return False


def outage_answer(error: BaseException) -> Response | None:
    """The 503 for `error` when it is an outage, else None: for the handlers of 500s, which
    see an outage that escaped a hook after the view (Flask wraps it in InternalServerError)."""
    return _answer(error) if is_outage(error) else None


def _answer(error: BaseException) -> Response:
    # Name the kind only: a driver's message may quote the statement's parameters (an email).
    current_app.logger.warning("database unavailable (%s): answered 503", type(error).__name__)
    # The connection is gone; what the session held is discarded either way.
    with suppress(Exception):
        db.session.rollback()
    seconds = str(current_app.config["OUTAGE_RETRY_AFTER_SECONDS"])
    response: Response
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"code": "unavailable", "message": API_MESSAGE, "fields": {}}})
    else:
        response = Response(_page(), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = seconds
    # A page saying "try again" must not be what a cache or the back button shows later.
    response.headers["Cache-Control"] = "no-store"
    return response


def _page() -> str:
    posted = request.method == "POST"
    if "_login_user" not in g:
        # Flask-Login's template context would look the visitor's session up in the database
        # that just failed: this page is shown as to someone signed out.
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    if is_console(request.path):
        message = (
            "The database did not answer, so this was not saved. Please try again in a minute."
            if posted
            else "The database did not answer. Please try again in a minute."
        )
        try:
            return render_template("admin/error.html", code=503, message=message)
        except Exception:  # noqa: BLE001 - its layout may ask the database who is signed in
            current_app.logger.info("the console's outage page failed; the public one instead")
    if "language" not in g:
        # The event's language is in the database that failed: the browser's is asked instead.
        speak(visitor_language())
    return render_template("outage.html", posted=posted)
