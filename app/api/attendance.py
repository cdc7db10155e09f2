"""POST /api/v1/events/<slug>/attendance: apply a webinar attendee report sent as a file."""

from __future__ import annotations

from typing import Any

from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.events import event_or_404
from app.api.schemas.attendance import AttendanceOut, AttendancePullOut, AttendanceUpload
from app.db import db, utcnow
from app.followup.attendance import import_attendance
from app.inputs import body_limit
from app.platforms.pulls import check_pullable, request_pull
from app.platforms.registry import PLATFORMS

blp = ApiBlueprint(
    "Attendance",
    __name__,
    url_prefix="/api/v1/events",
    description="Attendance from Zoom, GoToWebinar or Microsoft Teams reports, or a plain CSV.",
)


@blp.route("/<slug>/attendance", methods=["POST"])
@blp.allow(*MANAGERS)
@body_limit("MAX_UPLOAD_BODY_BYTES")
@blp.arguments(AttendanceUpload, location="files")
@blp.response(200, AttendanceOut)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def import_event_attendance(files: dict[str, Any], slug: str) -> dict[str, int]:
    """Apply an attendee report to the event (multipart/form-data, field `file`).

    Values are set, not added: the event's attendance becomes what this report says, so
    sending the same report twice changes nothing. A file that is not such a report (not
    CSV text, or without the columns) is refused with 422 naming `file`.
    """
    event = event_or_404(slug)
    return import_attendance(event, files["file"].stream).counts()


@blp.route("/<slug>/attendance/pull", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(202, AttendancePullOut)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def pull_event_attendance(slug: str) -> dict[str, str]:
    """Fetch the event's attendance from its webinar platform now.

    The next worker pass pulls the platform's report, applies it exactly as an uploaded one
    and routes the event's follow-up, as after the platform's end-of-webinar webhook. 409 when
    the event is not linked to a platform, or that platform is not connected.
    """
    event = event_or_404(slug)
    check_pullable(event)
    platform = str(event.platform)
    request_pull(event, "requested", utcnow())
    db.session.commit()
    label = PLATFORMS.get(platform, platform)
    return {
        "status": "pending",
        "platform": platform,
        "message": f"The attendance is pulled from {label} by the next worker pass.",
    }
