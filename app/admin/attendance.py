"""Console pages to import an event's attendance: upload a report, check the preview, apply.

The preview is kept in the database (`app.followup.attendance.previews`: named by a random
token, tied to the event and the person who uploaded it), so the apply step sends only the
token, the file is read once, and the "Apply" click may reach another web host than the upload.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import case, func, select
from wtforms import HiddenField
from wtforms.validators import DataRequired

from app.admin import bp
from app.admin.events import event_or_404
from app.auth.access import roles_required
from app.db import db
from app.events.models import Event
from app.followup.attendance import apply_preview, keep_upload, preview_attendance
from app.inputs import body_limit
from app.pages import flash_refusal, show_refusal
from app.platforms.pulls import retry_failed_pull
from app.refusals import Refusal
from app.registrations.models import Registration

# Long lists on the preview page stop here; the counts above them stay exact.
SHOWN_ROWS = 500


class UploadForm(FlaskForm):
    report = FileField(
        "Attendee report",
        validators=[FileRequired("Choose the attendee report to upload.")],
    )


class ApplyForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


@bp.route("/events/<slug>/attendance", methods=["GET", "POST"])
@roles_required("marketer")
@body_limit("MAX_UPLOAD_BODY_BYTES")
def attendance(slug: str) -> Any:
    event = event_or_404(slug)
    form = UploadForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                kept = keep_upload(event, form.report.data.stream, current_user.id)
            except Refusal as refusal:
                show_refusal(form, refusal, {"file": "report"})
            else:
                preview = preview_attendance(event, kept, shown=SHOWN_ROWS)
                return render_template(
                    "admin/attendance_preview.html",
                    event=event,
                    preview=preview,
                    apply_form=ApplyForm(token=kept.token),
                    shown=SHOWN_ROWS,
                )
        return _upload_page(event, form, 422)
    return _upload_page(event, form, 200)


@bp.post("/events/<slug>/attendance/apply")
@roles_required("marketer")
def apply_attendance_report(slug: str) -> Any:
    event = event_or_404(slug)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    try:
        summary = apply_preview(event, current_user.id, form.token.data or "")
    except Refusal as refusal:
        flash_refusal(refusal)
        return redirect(url_for("admin.attendance", slug=event.slug), code=303)
    if summary is None:
        flash("That preview has expired or was already applied. Upload the report again.", "error")
        return redirect(url_for("admin.attendance", slug=event.slug), code=303)
    flash(
        f"Attendance imported from the {summary.source}: {summary.attended} attended, "
        f"{summary.no_show} no-shows, {summary.unmatched} in the report without a registration "
        "(followed up as walk-ins).",
        "ok",
    )
    return redirect(url_for("admin.attendance", slug=slug), code=303)


@bp.post("/events/<slug>/attendance/pull/retry")
@roles_required("marketer")
def retry_attendance_pull(slug: str) -> Any:
    event = event_or_404(slug)
    if retry_failed_pull(event.id):
        flash("The attendance will be pulled again at the worker's next pass.", "ok")
    else:
        flash("The attendance pull has not failed (any more): nothing to retry.", "error")
    return redirect(url_for("admin.event", slug=event.slug), code=303)


def _upload_page(event: Event, form: UploadForm, code: int) -> tuple[str, int]:
    # A confirmed registrant checked in at the door but absent from the webinar report is there,
    # not a no-show: no one is counted twice.
    no_show = (
        (Registration.attended_minutes == 0)
        & ~Registration.attended
        & (Registration.status == "confirmed")
    )
    counts = db.session.execute(
        select(func.count(case((Registration.attended, 1))), func.count(case((no_show, 1)))).where(
            Registration.event_id == event.id
        )
    ).one()
    return (
        render_template(
            "admin/attendance.html",
            event=event,
            form=form,
            attended=counts[0],
            no_shows=counts[1],
        ),
        code,
    )
