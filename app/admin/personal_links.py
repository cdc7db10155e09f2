"""Console action for personal links in bulk: a CSV of emails in, the same people with their
personal links to this event's page out, for the marketing tool to import back."""

from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.events import event_or_404
from app.admin.forms import check_action
from app.auth.access import roles_required
from app.inputs import body_limit
from app.pages import flash_refusal
from app.registrations import invitation_lists
from app.registrations.invitation_lists import ListRefused


@bp.post("/events/<slug>/personal-links")
@roles_required("marketer")
@body_limit("MAX_UPLOAD_BODY_BYTES")
def personal_links_csv(slug: str) -> Response:
    event = event_or_404(slug)
    check_action()
    upload = request.files.get("file")
    try:
        people = invitation_lists.read_list(upload.read() if upload else b"")
    except ListRefused as refusal:
        flash_refusal(refusal, "No personal links were made: ")
        return redirect(url_for("admin.event", slug=event.slug, _anchor="personal-links"), 303)
    rows = invitation_lists.personal_links(people, event.slug)
    return Response(
        invitation_lists.links_csv(rows),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-personal-links.csv"',
            "Cache-Control": "no-store",
        },
    )
