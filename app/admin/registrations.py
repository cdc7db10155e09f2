"""Console pages for an event's registrations: the table, CSV export and the row actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.events import event_or_404
from app.admin.forms import RegistrationForm, check_action
from app.admin.registration_columns import columns_for
from app.admin.tables import RegistrationQuery, export_csv, registration_page
from app.auth.access import roles_required, safe_next
from app.db import db
from app.events.limits import CANCEL_MESSAGE_LENGTH
from app.events.models import Event
from app.fields import CONTROL_IN_TEXT, length_problem
from app.pages import flash_refusal
from app.payments import refunds
from app.payments.models import Payment
from app.payments.records import payments_of
from app.refusals import Refusal
from app.registrations import approval, services
from app.registrations.answers import answer_text
from app.registrations.models import REGISTRATION_STATUSES, Registration
from app.registrations.questions import questions_of

STATUS_LABELS = {
    "confirmed": "Confirmed",
    "waitlisted": "Waitlisted",
    "pending_payment": "Awaiting payment",
    "unverified": "Email not yet confirmed",
    "cancelled": "Cancelled",
    "walk_in": "Walk-in",
    "pending_approval": "Pending approval",
    "declined": "Declined",
    "on_demand": "Registered for the recording",
}
# What staff may decide on a registration pending approval, and what it is called after.
DECISIONS = {"approve": (approval.approve, "approved"), "decline": (approval.decline, "declined")}


@bp.get("/events/<slug>/registrations")
@roles_required("marketer")
def registrations(slug: str) -> str:
    event = event_or_404(slug)
    query = RegistrationQuery.from_args(request.args)
    page = registration_page(event, query)
    # One query for the whole page; a free event has no payments to show.
    paid = event.is_paid and payments_of([r.id for r in page.items])
    questions = questions_of(event.id)
    columns = columns_for(questions)
    return render_template(
        "admin/registrations.html",
        event=event,
        query=query,
        page=page,
        payments=paid or {},
        questions=questions,
        columns=columns,
        shown={column.key for column in columns if column.chosen},
        answer_text=answer_text,
        statuses=REGISTRATION_STATUSES,
        status_labels=STATUS_LABELS,
    )


@bp.get("/events/<slug>/registrations.csv")
@roles_required("marketer")
def export(slug: str) -> Response:
    event = event_or_404(slug)
    query = RegistrationQuery.from_args(request.args)
    return Response(
        stream_with_context(export_csv(event, query)),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-registrations.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/events/<slug>/registrations/new", methods=["GET", "POST"])
@roles_required("marketer")
def add_registration(slug: str) -> Any:
    event = event_or_404(slug)
    form = RegistrationForm()
    refusal = None
    code = 200 if request.method == "GET" else 422
    if request.method == "POST" and form.validate_on_submit():
        try:
            outcome = services.add_by_hand(event.id, form.registrant())
        except Refusal as refused:
            refusal, code = refused.message, refused.status
        else:
            registration = outcome.registration
            if outcome.created:
                status = STATUS_LABELS[registration.status].lower()
                flash(f"{registration.email} is registered ({status}).", "ok")
            else:
                flash(f"{registration.email} was already registered; nothing changed.", "ok")
            return redirect(url_for("admin.registrations", slug=event.slug), code=303)
    return (
        render_template("admin/registration_form.html", event=event, form=form, refusal=refusal),
        code,
    )


@bp.get("/events/<slug>/registrations/<int:registration_id>")
@roles_required("marketer")
def registration(slug: str, registration_id: int) -> str:
    event = event_or_404(slug)
    found = _registration_of(event, registration_id)
    return render_template(
        "admin/registration.html",
        event=event,
        registration=found,
        history=history(found),
        cancel_message_length=CANCEL_MESSAGE_LENGTH,
    )


def history(registration: Registration) -> list[tuple[datetime, str]]:
    """What happened to a registration, oldest first, from the moments it records (there is
    no log of every status change: these are the ones a registration keeps)."""
    decision = "Declined" if registration.status == "declined" else "Approved"
    moments = (
        (registration.created_at, "Walked in" if registration.is_walk_in else "Registered"),
        (registration.verified_at, "Confirmed their email address"),
        (registration.decided_at, decision),
        (registration.checked_in_at, "Checked in"),
        (registration.joined_at, "Joined the webinar"),
        (registration.left_at, "Left the webinar"),
        (registration.on_demand_at, "Watched the recording on demand"),
        (registration.cancelled_at, "Cancelled"),
    )
    # Sorted by time alone: moments that tie keep the order a registration lives them in.
    happened = [(moment, what) for moment, what in moments if moment is not None]
    return sorted(happened, key=lambda item: item[0])


def _registration_of(event: Event, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404, "This registration is not part of this event.")
    return registration


def _back_to_table(event: Event) -> Response:
    table = url_for("admin.registrations", slug=event.slug)
    back = safe_next(request.form.get("back"))
    return redirect(back if back and back.startswith(table) else table, code=303)


@bp.post("/events/<slug>/registrations/<int:registration_id>/cancel")
@roles_required("marketer")
def cancel_registration(slug: str, registration_id: int) -> Response:
    event = event_or_404(slug)
    check_action()
    registration = _registration_of(event, registration_id)
    if registration.status == "cancelled":
        flash(f"{registration.email} was already cancelled.", "error")
        return _back_to_table(event)
    if registration.is_walk_in:
        flash(
            f"{registration.email} walked in without registering: there is nothing to cancel.",
            "error",
        )
        return _back_to_table(event)
    message = (request.form.get("message") or "").strip()
    if problem := length_problem(message, CANCEL_MESSAGE_LENGTH):
        flash(f"Message: {problem} {registration.email} was not cancelled.", "error")
        return _back_to_table(event)
    if CONTROL_IN_TEXT.search(message):
        flash(
            f"Message: remove the invisible control characters. "
            f"{registration.email} was not cancelled.",
            "error",
        )
        return _back_to_table(event)
    promoted = services.cancel(registration.id, by="staff", message=message)
    message = f"Cancelled {registration.email}."
    if promoted is not None:
        message += f" {promoted.email} moved up from the waitlist."
    flash(message, "ok")
    return _back_to_table(event)


@bp.post("/events/<slug>/registrations/<int:registration_id>/promote")
@roles_required("marketer")
def promote(slug: str, registration_id: int) -> Response:
    event = event_or_404(slug)
    check_action()
    registration = _registration_of(event, registration_id)
    try:
        services.promote(registration.id)
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        flash(f"{registration.email} has a seat now.", "ok")
    return _back_to_table(event)


@bp.post("/events/<slug>/registrations/<int:registration_id>/approve")
@roles_required("marketer")
def approve(slug: str, registration_id: int) -> Response:
    return _decide(slug, registration_id, "approve")


@bp.post("/events/<slug>/registrations/<int:registration_id>/decline")
@roles_required("marketer")
def decline(slug: str, registration_id: int) -> Response:
    return _decide(slug, registration_id, "decline")


def _decide(slug: str, registration_id: int, decision: str) -> Response:
    """Approve or decline one registration pending approval."""
    event = event_or_404(slug)
    check_action()
    registration = _registration_of(event, registration_id)
    act, done = DECISIONS[decision]
    try:
        decided = act(registration.id)
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        on_waitlist = (
            " and on the waitlist: no seat is free" if decided.status == "waitlisted" else ""
        )
        flash(f"{decided.email} is {done}{on_waitlist}.", "ok")
    return _back_to_table(event)


@bp.post("/events/<slug>/registrations/decide")
@roles_required("marketer")
def decide_many(slug: str) -> Response:
    """Approve or decline every ticked registration (the table's one bulk form)."""
    event = event_or_404(slug)
    check_action()
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, "Choose to approve or to decline the ticked registrations.")
    chosen = {int(value) for value in request.form.getlist("registration") if value.isdigit()}
    emails = dict(
        db.session.execute(
            select(Registration.id, Registration.email)
            .where(Registration.event_id == event.id, Registration.id.in_(chosen))
            .order_by(Registration.created_at, Registration.id)
        )
        .tuples()
        .all()
    )
    if not emails:
        flash("Tick the registrations to decide on first.", "error")
        return _back_to_table(event)
    act, done = DECISIONS[decision]
    decisions = approval.decide_all(emails, act)
    if decisions.done:
        count = len(decisions.done)
        message = f"{count} registration{'s' if count != 1 else ''} {done}"
        if waitlisted := sum(1 for r in decisions.done if r.status == "waitlisted"):
            message += f" ({waitlisted} on the waitlist: no seat was free)"
        flash(message + ".", "ok")
    for registration_id, reason in decisions.refused:
        flash(f"{emails[registration_id]}: {reason}", "error")
    return _back_to_table(event)


@bp.post("/events/<slug>/registrations/<int:registration_id>/check-in")
@roles_required("marketer")
def check_in(slug: str, registration_id: int) -> Response:
    event = event_or_404(slug)
    check_action()
    registration = _registration_of(event, registration_id)
    present = request.form.get("present", "1") != "0"
    try:
        services.check_in(registration.id, present=present)
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        flash(
            f"{registration.email} is checked in."
            if present
            else f"Check-in undone for {registration.email}.",
            "ok",
        )
    return _back_to_table(event)


@bp.post("/events/<slug>/payments/<int:payment_id>/retry-refund")
@roles_required("marketer")
def retry_refund(slug: str, payment_id: int) -> Response:
    """Ask for a refund Stripe refused to be tried again (the worker makes it)."""
    event = event_or_404(slug)
    check_action()
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.event_id != event.id:
        abort(404, "This payment is not part of this event.")
    email = payment.registration.email
    if payment.refund_status != "failed":
        flash(f"The refund to {email} has not failed; there is nothing to retry.", "error")
        return _back_to_table(event)
    refunds.retry_refund(payment.id)
    flash(f"The refund to {email} is being made again; the table shows how it went.", "ok")
    return _back_to_table(event)
