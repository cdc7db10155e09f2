"""Public event pages that need no registration: upcoming events and each event's .ics file."""

from __future__ import annotations

from flask import Response, abort, current_app, make_response, render_template, url_for

from app.events import bp
from app.events.calendar import public_calendar
from app.events.services import published_by_slug, upcoming_published
from app.languages import N_, speak, visitor_language


@bp.get("/")
def index() -> Response:
    # The list belongs to no one event: its own words speak the browser's language, and each
    # event's title stays in the language it was written in.
    speak(visitor_language())
    response = make_response(render_template("events/index.html", events=upcoming_published()))
    response.vary.add("Accept-Language")
    return response


@bp.get("/e/<slug>.ics")
def event_ics(slug: str) -> Response:
    event = published_by_slug(slug)
    if event is None:
        abort(404, N_("There is no published event at this address."))
    landing = current_app.config["BASE_URL"] + url_for("registrations.landing", slug=slug)
    return Response(
        public_calendar(event, event_url=landing),
        content_type="text/calendar; charset=utf-8; method=PUBLISH",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )
