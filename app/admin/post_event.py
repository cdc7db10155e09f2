"""The console's post-event emails page: each kind's wording (subject and text), a preview
of what a registrant will get, and "send me a test" to the staff member's own address."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField

from app.admin import bp
from app.admin.events import event_or_404
from app.auth.access import roles_required, staff_user
from app.events.models import Event
from app.mail.models import POST_EVENT_KINDS
from app.mail.post_event import (
    DEFAULTS,
    NAMES,
    PLACEHOLDERS,
    TemplateRejected,
    Wording,
    save_wording,
    wording,
)
from app.mail.post_event_console import sample_letter, send_test, sent_so_far
from app.pages import show_refusal


class PostEventForm(FlaskForm):
    """Subject and text of each post-event email; the service checks them."""


for _kind in POST_EVENT_KINDS:
    setattr(PostEventForm, f"{_kind}_subject", StringField("Subject"))
    setattr(PostEventForm, f"{_kind}_body", TextAreaField("Text", render_kw={"rows": 8}))


def _given(form: PostEventForm) -> dict[str, Wording]:
    return {
        kind: Wording(str(form[f"{kind}_subject"].data or ""), str(form[f"{kind}_body"].data or ""))
        for kind in POST_EVENT_KINDS
    }


def _filled_form(event: Event) -> PostEventForm:
    data: dict[str, Any] = {}
    for kind in POST_EVENT_KINDS:
        words = wording(event, kind)
        data[f"{kind}_subject"] = words.subject
        data[f"{kind}_body"] = words.body
    return PostEventForm(formdata=None, data=data)


@bp.route("/events/<slug>/post-event", methods=["GET", "POST"])
@roles_required("marketer")
def post_event(slug: str) -> str | Response | tuple[str, int]:
    event = event_or_404(slug)
    if request.method == "GET":
        return _page(event, _filled_form(event))
    form = PostEventForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    action, _, kind = (request.form.get("action") or "save").partition(":")
    if action in ("preview", "test") and kind not in POST_EVENT_KINDS:
        abort(400, "Choose which email to preview or test.")
    given = _given(form)
    if action == "save":
        try:
            save_wording(event, given)
        except TemplateRejected as refusal:
            return _page(event, form, problems=show_refusal(form, refusal)), 422
        flash("Post-event emails saved.")
        return redirect(url_for("admin.post_event", slug=event.slug), code=303)
    words = given[kind]
    if not words.subject.strip() or not words.body.strip():
        return _page(event, form, problems=["Give the email a subject and a text first."]), 422
    staff = staff_user()
    if staff is None:  # roles_required let only staff in
        abort(403)
    if action == "test":
        send_test(event, kind, words, to_email=staff.email, to_name=staff.name)
        flash(f"A test of “{NAMES[kind]}” is on its way to {staff.email}.")
        return _page(event, form, preview=kind)
    return _page(event, form, preview=kind)


def _page(
    event: Event,
    form: PostEventForm,
    *,
    preview: str | None = None,
    problems: list[str] | None = None,
) -> str:
    staff = staff_user()
    letter = None
    if preview is not None and staff is not None:
        given = _given(form)[preview]
        letter = sample_letter(
            event,
            preview,
            given,
            first_name=(staff.name.split() or ["there"])[0],
            email=staff.email,
        )
    return render_template(
        "admin/post_event.html",
        event=event,
        form=form,
        kinds=POST_EVENT_KINDS,
        names=NAMES,
        defaults=DEFAULTS,
        placeholders=PLACEHOLDERS,
        preview=preview,
        letter=letter,
        sent=sent_so_far(event),
        delay=current_app.config["POST_EVENT_DELAY_MINUTES"],
        fallback=current_app.config["POST_EVENT_FALLBACK_HOURS"],
        problems=problems or [],
    )
