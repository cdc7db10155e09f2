"""The rep's follow-up list at /followups and one follow-up's page with its actions.

A rep sees only their own follow-ups: another rep's follow-up answers 404, as if it did not
exist. An admin sees everyone's.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are for 3.2

from app.auth.access import roles_required
from app.auth.staff import update_rep_profile
from app.db import db, utcnow
from app.followup import bp
from app.followup.forms import STATUS_LABELS, AssignForm, MeetingLinkForm, OutcomeForm
from app.followup.models import DISQUALIFY_REASONS, PRIORITIES, Escalation
from app.followup.services import (
    ListFilter,
    assign_by_hand,
    counts_by_status,
    earlier_events,
    find_visible,
    list_query,
    sees_all,
    update_followup,
    with_details,
)
from app.inputs import query_int
from app.models import FOLLOWUP_ROLES, User
from app.pages import flash_refusal, show_refusal
from app.refusals import Refusal

PER_PAGE = 50
LIST_STATUSES = ("open", "all", "contacted", "qualified", "disqualified", "converted")


@bp.get("/followups")
@roles_required(*FOLLOWUP_ROLES)
def index() -> str:
    user = current_user._get_current_object()
    status = request.args.get("status", "open")
    priority = request.args.get("priority") or None
    flt = ListFilter(
        status=status if status in LIST_STATUSES else "open",
        priority=priority if priority in PRIORITIES else None,
        event_slug=(request.args.get("event") or "").strip()[:80] or None,
        rep_id=query_int(request.args, "rep", None) if sees_all(user) else None,
    )
    page = db.paginate(
        with_details(list_query(user, flt)),
        page=query_int(request.args, "page", 1),
        per_page=PER_PAGE,
        error_out=False,
    )
    reps = []
    if sees_all(user):
        reps = list(db.session.scalars(select(User).where(User.role == "rep").order_by(User.name)))
    return render_template(
        "followup/index.html",
        page=page,
        flt=flt,
        reps=reps,
        counts=counts_by_status(user),
        now=utcnow(),
        earlier_events=earlier_events,
        statuses=LIST_STATUSES,
        priorities=PRIORITIES,
        status_labels=STATUS_LABELS,
        reasons=DISQUALIFY_REASONS,
    )


@bp.route("/followups/meeting-link", methods=["GET", "POST"])
@roles_required("rep")
def meeting_link() -> Response | str | tuple[str, int]:
    """The rep's own meeting link, offered to their hot registrants on the thank-you page."""
    profile = current_user.rep_profile
    if profile is None:
        abort(404, "You have no rep profile.")
    form = MeetingLinkForm(data={"meeting_url": profile.meeting_url or ""})
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            update_rep_profile(profile, {"meeting_url": form.meeting_url.data})
        except Refusal as exc:
            problems = show_refusal(form, exc)
        else:
            flash("Meeting link saved.")
            return redirect(url_for("followup.meeting_link"))
    status = 422 if request.method == "POST" else 200
    return render_template("followup/meeting_link.html", form=form, problems=problems), status


@bp.post("/followups/<int:followup_id>/assign")
@roles_required()
def assign(followup_id: int) -> Response:
    """Admins only: give the follow-up to a rep by hand (flagged ones above all)."""
    user = current_user._get_current_object()
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    try:
        followup = assign_by_hand(followup_id, int(form.rep.data or 0), user)
    except LookupError:
        abort(404, "There is no follow-up at this address.")
    except ValueError:
        db.session.rollback()
        flash("Choose a rep.", "error")
        return redirect(url_for("followup.detail", followup_id=followup_id), code=303)
    except Refusal as refusal:
        db.session.rollback()
        flash_refusal(refusal)
        return redirect(url_for("followup.detail", followup_id=followup_id), code=303)
    flash(f"Assigned to {followup.rep.name if followup.rep else 'the rep'}.", "ok")
    return redirect(url_for("followup.detail", followup_id=followup_id), code=303)


@bp.route("/followups/<int:followup_id>", methods=["GET", "POST"])
@roles_required(*FOLLOWUP_ROLES)
def detail(followup_id: int) -> Response | str | tuple[str, int]:
    user = current_user._get_current_object()
    followup = find_visible(user, followup_id)
    if followup is None:
        abort(404, "There is no follow-up at this address.")
    form = OutcomeForm(status=followup.status, reason=followup.reason or "")
    problems: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            values = {"note": form.note.data}
            if form.status.data != followup.status or form.status.data == "disqualified":
                values |= {
                    "status": form.status.data,
                    "reason": form.reason.data or None,
                    "reason_note": form.reason_note.data,
                }
            try:
                update_followup(followup.id, user, values)
            except Refusal as refusal:
                problems = show_refusal(form, refusal)
            except LookupError:
                abort(404, "There is no follow-up at this address.")
            else:
                flash("Saved.", "ok")
                return redirect(url_for("followup.detail", followup_id=followup.id), code=303)
        db.session.rollback()
        followup = find_visible(user, followup_id)
        if followup is None:
            abort(404, "There is no follow-up at this address.")
    escalations = list(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.followup_id == followup.id)
            .order_by(Escalation.created_at)
        )
    )
    assign_form = None
    if sees_all(user):
        assign_form = AssignForm(rep=str(followup.rep_id or ""))
        reps = db.session.scalars(
            select(User).where(User.role == "rep", User.active.is_(True)).order_by(User.name)
        )
        assign_form.rep.choices = [
            SelectChoice("", "Choose a rep"),
            *(SelectChoice(str(r.id), r.name) for r in reps),
        ]
    status_code = 422 if request.method == "POST" else 200
    return (
        render_template(
            "followup/detail.html",
            followup=followup,
            form=form,
            problems=problems,
            earlier=earlier_events(followup),
            escalations=escalations,
            assign_form=assign_form,
            now=utcnow(),
            reasons=DISQUALIFY_REASONS,
            status_labels=STATUS_LABELS,
        ),
        status_code,
    )
