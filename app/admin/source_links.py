"""Console actions for an event's source links: create one, delete one (the event page lists
them with the address to copy)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.events import event_or_404
from app.admin.forms import check_action
from app.auth.access import roles_required
from app.db import db
from app.events.models import Event
from app.pages import flash_refusal
from app.refusals import Refusal
from app.registrations import source_links
from app.registrations.models import SourceLink


def _back_to_event(event: Event) -> Response:
    return redirect(url_for("admin.event", slug=event.slug, _anchor="source-links"), code=303)


@bp.post("/events/<slug>/source-links")
@roles_required("marketer")
def new_source_link(slug: str) -> Response:
    event = event_or_404(slug)
    check_action()
    try:
        link = source_links.create_link(event.id, request.form.to_dict())
    except Refusal as refusal:
        flash_refusal(refusal, "The link was not created: ")
    else:
        flash(f"Source link “{link.name}” created.", "ok")
    return _back_to_event(event)


@bp.post("/events/<slug>/source-links/<int:link_id>/delete")
@roles_required("marketer")
def remove_source_link(slug: str, link_id: int) -> Response:
    event = event_or_404(slug)
    check_action()
    link = db.session.get(SourceLink, link_id)
    if link is None or link.event_id != event.id:
        abort(404, "This event has no such source link.")
    name = link.name
    source_links.delete_link(link)
    flash(f"Source link “{name}” deleted; its registrations keep their utm values.", "ok")
    return _back_to_event(event)
