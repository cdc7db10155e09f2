"""Console pages for events: the list, create and edit, preview, publish, duplicate, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.event_forms import CancelEventForm, EventForm, utc_to_wall_clock
from app.admin.forms import ActionForm
from app.admin.question_forms import TYPE_LABELS
from app.admin.tables import Counts, counts_by_event, event_list
from app.auth.access import roles_required
from app.db import db
from app.events.description import plain_summary, render_description
from app.events.models import Campaign, Event
from app.events.notice import page_notice
from app.events.services import (
    by_slug,
    cancel_event,
    create_event,
    duplicate_event,
    free_slug,
    schedule_changes,
    slug_from,
    update_event,
)
from app.inputs import query_int
from app.mail.receivers import update_audience
from app.pages import flash_refusal, show_refusal
from app.payments import display
from app.payments.records import takings
from app.platforms.status import sync_state
from app.refusals import Refusal
from app.registrations.forms import ReserveForm, asked_on_form
from app.registrations.models import WALK_IN, Registration
from app.registrations.questions import BUILT_INS, questions_of
from app.registrations.source_links import MEDIUM_SUGGESTIONS, SOURCE_SUGGESTIONS, links_of

# Which form field shows a message the events service gives for one of its fields.
FIELD_FOR = {"price_cents": "price", "status": None}


# Amounts read the same everywhere: console, registrants' pages and emails ("EUR 49.00").
bp.add_app_template_filter(display.money, "money")


@bp.app_template_filter("wall_clock")
def wall_clock(instant: datetime, zone: str, fmt: str) -> str:
    """An instant as the wall-clock reading in `zone`, without the zone's name."""
    return utc_to_wall_clock(instant, zone).strftime(fmt)


def event_or_404(slug: str) -> Event:
    # A malformed slug cannot name an event; refusing it early keeps odd bytes out of SQL.
    event = by_slug(slug)
    if event is None:
        abort(404, "There is no event at this address.")
    return event


@bp.get("/")
@roles_required("marketer")
def home() -> Response:
    return redirect(url_for("admin.events"))


@bp.get("/events")
@roles_required("marketer")
def events() -> str:
    listing = event_list(past_page=query_int(request.args, "past_page", 1))
    return render_template("admin/events.html", listing=listing)


def _campaign_names() -> list[str]:
    return list(db.session.scalars(db.select(Campaign.name).order_by(Campaign.name).limit(200)))


def _render_form(
    form: EventForm,
    event: Event | None,
    problems: list[str],
    code: int,
    *,
    to_email: int = 0,
    changes: set[str] | None = None,
) -> Any:
    return (
        render_template(
            "admin/event_form.html",
            form=form,
            event=event,
            problems=problems,
            campaigns=_campaign_names(),
            to_email=to_email,
            changes=changes or set(),
        ),
        code,
    )


@bp.route("/events/new", methods=["GET", "POST"])
@roles_required("marketer")
def new_event() -> Any:
    form = EventForm()
    problems: list[str] = []
    if request.method == "GET":
        form.duration_minutes.data = 60
        form.waitlist.data = True
        form.currency.data = "USD"
        # UTC without JavaScript; admin.js moves a new event to the browser's own zone.
        form.timezone.data = "UTC"
        form.timezone.render_kw = {"data-browser-zone": ""}
    elif form.validate_on_submit():
        values = form.values()
        values["slug"] = values["slug"] or free_slug(slug_from(values["title"]))
        try:
            event = create_event(values)
        except Refusal as refusal:
            problems = show_refusal(form, refusal, FIELD_FOR)
        else:
            flash("Draft saved. Preview it, then publish it when it is ready.", "ok")
            return redirect(url_for("admin.event", slug=event.slug), code=303)
    return _render_form(form, None, problems, 200 if request.method == "GET" else 422)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@roles_required("marketer")
def edit_event(slug: str) -> Any:
    event = event_or_404(slug)
    if event.status == "cancelled":
        flash("A cancelled event cannot be changed; duplicate it to run it again.", "error")
        return redirect(url_for("admin.event", slug=event.slug), code=303)
    form = EventForm.for_event(event) if request.method == "GET" else EventForm()
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        values = form.values()
        values["slug"] = values["slug"] or event.slug
        # A live event's registrants are emailed about a new time, place or join link: the
        # console says how many first, and saves only once that is confirmed.
        changes = schedule_changes(event, values) if event.status == "published" else set()
        confirmed = request.form.get("notify") == "confirmed"
        if changes and not confirmed and (count := update_audience(event)):
            return _render_form(form, event, [], 200, to_email=count, changes=changes)
        try:
            update_event(event, values)
        except Refusal as refusal:
            problems = show_refusal(form, refusal, FIELD_FOR)
        else:
            flash("Changes saved.", "ok")
            return redirect(url_for("admin.event", slug=event.slug), code=303)
    return _render_form(form, event, problems, 200 if request.method == "GET" else 422)


@bp.get("/events/<slug>")
@roles_required("marketer")
def event(slug: str) -> str:
    event = event_or_404(slug)
    counts = counts_by_event([event.id]).get(event.id, Counts())
    return render_template(
        "admin/event.html",
        event=event,
        counts=counts,
        takings=takings(event.id),
        description=render_description(event.description),
        questions=questions_of(event.id),
        question_types=TYPE_LABELS,
        built_ins=BUILT_INS,
        platform=sync_state(event),
        source_links=links_of(event.id),
        source_suggestions=SOURCE_SUGGESTIONS,
        medium_suggestions=MEDIUM_SUGGESTIONS,
    )


@bp.get("/events/<slug>/preview")
@roles_required("marketer")
def preview_event(slug: str) -> str:
    event = event_or_404(slug)
    return render_template(
        "admin/preview.html",
        event=event,
        form=ReserveForm(),
        questions=asked_on_form(questions_of(event.id)),
        refusal=None if event.status == "draft" else event.closed_reason(),
        notice=page_notice(event),
        description=render_description(event.description),
        summary=plain_summary(event.description),
        consent_text=current_app.config["CONSENT_TEXT"],
        calendar_links=[],
    )


@bp.post("/events/<slug>/publish")
@roles_required("marketer")
def publish_event(slug: str) -> Any:
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    if event.status != "draft":
        flash("Only a draft can be published.", "error")
        return redirect(url_for("admin.event", slug=event.slug), code=303)
    try:
        update_event(event, {"status": "published"})
    except Refusal as refusal:
        # Show why next to the fields that need fixing, on the edit form.
        form = EventForm.for_event(event)
        problems = show_refusal(form, refusal, FIELD_FOR)
        problems.insert(0, "The event was not published. Fix the fields marked below first.")
        return _render_form(form, event, problems, 422)
    flash("Published: the landing page is live.", "ok")
    return redirect(url_for("admin.event", slug=event.slug), code=303)


@bp.post("/events/<slug>/duplicate")
@roles_required("marketer")
def duplicate(slug: str) -> Response:
    event = event_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    try:
        copy = duplicate_event(event)
    except Refusal as refusal:
        flash_refusal(refusal, "The copy was not made: ")
        return redirect(url_for("admin.event", slug=event.slug), code=303)
    flash(f"This is a new draft copied from {event.title!r}. Change the date, then publish.", "ok")
    return redirect(url_for("admin.edit_event", slug=copy.slug), code=303)


@bp.route("/events/<slug>/cancel", methods=["GET", "POST"])
@roles_required("marketer")
def cancel(slug: str) -> Any:
    event = event_or_404(slug)
    if event.status == "cancelled":
        flash("This event is already cancelled.", "error")
        return redirect(url_for("admin.event", slug=event.slug), code=303)
    form = CancelEventForm()
    if request.method == "POST" and form.validate_on_submit():
        cancel_event(event, message=form.message.data)
        flash("The event is cancelled; registrants are being told.", "ok")
        return redirect(url_for("admin.event", slug=event.slug), code=303)
    affected = db.session.scalar(
        db.select(db.func.count(Registration.id)).where(
            # Walk-ins are told nothing: they never registered.
            Registration.event_id == event.id,
            Registration.status.not_in(("cancelled", WALK_IN)),
        )
    )
    return (
        render_template("admin/cancel.html", event=event, form=form, affected=affected or 0),
        200 if request.method == "GET" else 422,
    )
