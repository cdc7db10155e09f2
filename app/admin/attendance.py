"""Console pages to import an event's attendance: upload a report, check the preview, apply.

The preview is kept on the server (a JSON file under `instance/attendance-previews/`, named by
a random token and tied to the event and the person who uploaded it), so the apply step sends
only the token and the file is read once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
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
from app.followup.attendance import (
    AttendeeReport,
    apply_attendance,
    preview_attendance,
    read_report,
)
from app.inputs import body_limit
from app.pages import flash_refusal, show_refusal
from app.privacy.registry import Person
from app.refusals import Refusal
from app.registrations.models import Registration

# A preview is applied within the hour or uploaded again; older files are swept away.
PREVIEW_LIFETIME_SECONDS = 3600
# Long lists on the preview page stop here; the counts above them stay exact.
SHOWN_ROWS = 500
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


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
                report = read_report(form.report.data.stream, event)
            except Refusal as refusal:
                show_refusal(form, refusal, {"file": "report"})
            else:
                preview = preview_attendance(event, report)
                token = _keep(event, report)
                return render_template(
                    "admin/attendance_preview.html",
                    event=event,
                    preview=preview,
                    apply_form=ApplyForm(token=token),
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
    report = _take(event, form.token.data or "")
    if report is None:
        flash("That preview has expired or was already applied. Upload the report again.", "error")
        return redirect(url_for("admin.attendance", slug=event.slug), code=303)
    try:
        summary = apply_attendance(event, report)
    except Refusal as refusal:
        flash_refusal(refusal)
        return redirect(url_for("admin.attendance", slug=event.slug), code=303)
    flash(
        f"Attendance imported from the {summary.source}: {summary.attended} attended, "
        f"{summary.no_show} no-shows, {summary.unmatched} in the report without a registration "
        "(followed up as walk-ins).",
        "ok",
    )
    return redirect(url_for("admin.attendance", slug=slug), code=303)


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


# Keeping previews -----------------------------------------------------------------------------


def _previews() -> Path:
    folder = Path(current_app.instance_path) / "attendance-previews"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(event: Event, report: AttendeeReport) -> str:
    folder = _previews()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    body = {
        "event_id": event.id,
        "user_id": current_user.get_id(),
        "report": report.to_json(),
    }
    partial = folder / f"{token}.part"
    partial.write_text(json.dumps(body), encoding="utf-8")
    os.replace(partial, folder / f"{token}.json")
    return token


def _take(event: Event, token: str) -> AttendeeReport | None:
    """The kept report for this event and this person, removed so it is applied only once."""
    if not _TOKEN.match(token):
        return None
    path = _previews() / f"{token}.json"
    claimed = path.with_suffix(".applying")
    try:
        # Renaming first means two clicks on "Apply" cannot both take the same preview.
        os.replace(path, claimed)
    except FileNotFoundError:
        return None
    try:
        if time.time() - claimed.stat().st_mtime > PREVIEW_LIFETIME_SECONDS:
            return None
        body = json.loads(claimed.read_text(encoding="utf-8"))
        if body.get("event_id") != event.id or body.get("user_id") != current_user.get_id():
            return None
        return AttendeeReport.from_json(body["report"])
    finally:
        claimed.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    cutoff = time.time() - PREVIEW_LIFETIME_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


def forget_previews_of(person: Person, _now: datetime) -> int:
    """Privacy's eraser for kept previews: any that names the person is deleted."""
    removed = 0
    for path in _previews().glob("*.json"):
        try:
            # Read back as text: the file escapes accented names.
            kept = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
            if person.mentioned_in(kept):
                path.unlink()
                removed += 1
        except (FileNotFoundError, ValueError):
            continue
    return removed
