"""The rep's follow-up list at /followups and one follow-up's page with its actions.

A rep sees only their own follow-ups: another rep's follow-up answers 404, as if it did not
exist. An admin sees everyone's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from app.followup.models import DISQUALIFY_REASONS, PRIORITIES, Escalation, FollowUp
from app.followup.services import (
    ListFilter,
    assign_by_hand,
    counts_by_status,
    earlier_events,
    find_visible,
    list_query,
    next_in_list,
    sees_all,
    update_followup,
    with_details,
)
from app.inputs import query_int
from app.models import FOLLOWUP_ROLES, User
from app.pages import flash_refusal, show_refusal
from app.refusals import Refusal

PER_PAGE = 50
# What a `tel:` link may hold (RFC 3966's visual separators dropped): digits and a leading +.
_NOT_DIALLED = re.compile(r"[^\d+]")
LIST_STATUSES = ("open", "all", "contacted", "qualified", "disqualified", "converted")


@bp.app_template_filter("tel")
def tel(phone: str | None) -> str:
    """A phone number as typed ("+49 (30) 1234-56") as a one-tap `tel:` target ("+4930123456")."""
    dialled = _NOT_DIALLED.sub("", phone or "")
    return dialled[:1] + dialled[1:].replace("+", "")


def list_filter(user: User, args: Mapping[str, str]) -> ListFilter:
    """The list's filter from its query string; a follow-up's page keeps it for "save and next"."""
    status = args.get("status", "open")
    priority = args.get("priority") or None
    return ListFilter(
        status=status if status in LIST_STATUSES else "open",
        priority=priority if priority in PRIORITIES else None,
        event_slug=(args.get("event") or "").strip()[:80] or None,
        rep_id=query_int(args, "rep", None) if sees_all(user) else None,
    )


def filter_args(flt: ListFilter) -> dict[str, Any]:
    """The query string that shows the same list (only what differs from the default)."""
    args = {"status": flt.status if flt.status != "open" else "", "priority": flt.priority or ""}
    args |= {"event": flt.event_slug or "", "rep": str(flt.rep_id or "")}
    return {key: value for key, value in args.items() if value}


@bp.get("/followups")
@roles_required(*FOLLOWUP_ROLES)
def index() -> str:
    user = current_user._get_current_object()
    flt = list_filter(user, request.args)
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
        list_args=filter_args(flt),
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
    flt = list_filter(user, request.args)
    list_args = filter_args(flt)
    form = OutcomeForm(status=followup.status, reason=followup.reason or "")
    problems: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            go_on = "next" in request.form
            values = {"note": form.note.data}
            if form.status.data != followup.status or form.status.data == "disqualified":
                values |= {
                    "status": form.status.data,
                    "reason": form.reason.data or None,
                    "reason_note": form.reason_note.data,
                }
            try:
                if len(values) > 1 or (form.note.data or "").strip() or not go_on:
                    update_followup(followup.id, user, values)
                    flash("Saved.", "ok")
            except Refusal as refusal:
                problems = show_refusal(form, refusal)
            except LookupError:
                abort(404, "There is no follow-up at this address.")
            else:
                return _after_save(user, flt, followup, go_on)
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
            list_args=list_args,
            timeline=timeline(followup, escalations),
            earlier=earlier_events(followup),
            escalations=escalations,
            assign_form=assign_form,
            now=utcnow(),
            reasons=DISQUALIFY_REASONS,
            status_labels=STATUS_LABELS,
        ),
        status_code,
    )


def _after_save(user: User, flt: ListFilter, followup: FollowUp, go_on: bool) -> Response:
    """Back to the same follow-up, or ("save and next") on to the next one in the list."""
    args = filter_args(flt)
    if not go_on:
        return redirect(url_for("followup.detail", followup_id=followup.id, **args), code=303)
    following = next_in_list(user, flt, followup)
    if following is None:
        flash("That was the last follow-up in the list.", "ok")
        return redirect(url_for("followup.index", **args), code=303)
    return redirect(url_for("followup.detail", followup_id=following.id, **args), code=303)


@dataclass(frozen=True, slots=True)
class Moment:
    """One line of a follow-up's timeline."""

    at: datetime
    who: str
    status: str | None
    text: str
    kind: str  # "note", "assigned", "escalated"


def timeline(followup: FollowUp, escalations: list[Escalation]) -> list[Moment]:
    """Notes, status changes and escalations in the order they happened, newest first."""
    moments = [
        *(
            Moment(
                note.created_at,
                note.author.name if note.author else "Someone",
                note.status,
                note.body,
                "note",
            )
            for note in followup.notes
        ),
        *(Moment(e.created_at, "Escalation", None, e.reason, "escalated") for e in escalations),
    ]
    # Routing's line opens the story whatever its clock said (a batch can be routed "as of"
    # the event's end); sorting is stable, so notes of one instant keep the order written.
    assigned = Moment(followup.assigned_at, "Routing", None, followup.why, "assigned")
    return [*sorted(moments, key=lambda moment: moment.at, reverse=True), assigned]
