"""Console pages for follow-up routing: the ordered rule table, follow-up settings (scores,
SLAs, business hours, escalation) and routing an event's follow-up on demand."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are for 3.2

from app.admin import bp
from app.auth.access import roles_required
from app.db import db, utcnow
from app.events.models import Event
from app.followup.forms import ActionForm, RouteEventForm, RuleForm, SettingsForm
from app.followup.models import RoutingRule, RoutingRun
from app.followup.routing import route_followups
from app.followup.rules import delete_rule, move_rule, ordered_rules, save_rule
from app.followup.scoring import load_settings, save_settings
from app.models import User
from app.pages import flash_refusal, show_refusal
from app.refusals import Refusal

# Ended events offered for routing on demand, newest first.
RECENT_EVENTS = 50
# Which rule form field shows a message the rules service gives for one of its fields.
RULE_FIELDS = {"target_rep_id": "target_rep", "members": None, "target": None}
# ... and which settings form field, for the settings service's.
SETTINGS_FIELDS = {f"sla_minutes.{p}": f"sla_{p}" for p in ("hot", "warm", "cold")}


def _reps() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "rep").order_by(User.name)))


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404, "There is no such routing rule.")
    return rule


@bp.get("/routing")
@roles_required("marketer")
def routing() -> str:
    ended = list(
        db.session.scalars(
            select(Event)
            .where(Event.status == "published", Event.ends_at <= utcnow())
            .order_by(Event.ends_at.desc())
            .limit(RECENT_EVENTS)
        )
    )
    form = RouteEventForm()
    form.event.choices = [SelectChoice(e.slug, e.title) for e in ended]
    runs = list(
        db.session.execute(
            select(RoutingRun, Event.title, User.name)
            .join(Event, Event.id == RoutingRun.event_id)
            .outerjoin(User, User.id == RoutingRun.actor_id)
            .order_by(RoutingRun.ran_at.desc())
            .limit(10)
        )
    )
    return render_template(
        "followup/routing.html",
        rules=ordered_rules(),
        reps={rep.id: rep for rep in _reps()},
        route_form=form,
        action_form=ActionForm(),
        runs=runs,
        settings=load_settings(),
    )


@bp.post("/routing/run")
@roles_required("marketer")
def route_now() -> Response:
    form = RouteEventForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    event = db.session.scalar(select(Event).where(Event.slug == (form.event.data or "")))
    if event is None:
        flash("Choose an event that has ended.", "error")
        return redirect(url_for("admin.routing"), code=303)
    try:
        result = route_followups(event.id, trigger="console", actor_id=current_user.id)
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        if result.created:
            shares = ", ".join(f"{email}: {n}" for email, n in sorted(result.by_rep.items()))
            flash(f"{result.created} new follow-ups for {event.title} ({shares}).", "ok")
        else:
            flash(f"Every registrant of {event.title} already has a follow-up.", "ok")
        if result.unassigned:
            flash(f"{result.unassigned} could not be assigned: no rep was available.", "error")
    return redirect(url_for("admin.routing"), code=303)


@bp.route("/routing/rules/new", methods=["GET", "POST"])
@roles_required()
def new_rule() -> Any:
    return _rule_page(None)


@bp.route("/routing/rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required()
def edit_rule(rule_id: int) -> Any:
    return _rule_page(_rule_or_404(rule_id))


def _rule_page(rule: RoutingRule | None) -> Any:
    reps = _reps()
    form = RuleForm(obj=None)
    form.target_rep.choices = [
        SelectChoice("", "Choose a rep"),
        *(SelectChoice(str(r.id), r.name) for r in reps),
    ]
    weights: dict[int, str] = {}
    if request.method == "GET" and rule is not None:
        form.name.data = rule.name
        form.active.data = rule.active
        form.alert_on_registration.data = rule.alert_on_registration
        form.countries.data = ", ".join(rule.countries)
        form.regions.data = list(rule.regions)
        form.segments.data = ", ".join(rule.segments)
        form.email_domains.data = ", ".join(rule.email_domains)
        form.campaigns.data = ", ".join(rule.campaigns)
        form.title_keywords.data = ", ".join(rule.title_keywords)
        form.target.data = "rep" if rule.target_rep_id is not None else "pool"
        form.target_rep.data = str(rule.target_rep_id or "")
        weights = {m.rep_id: str(m.weight) for m in rule.members}
    problems: list[str] = []
    if request.method == "POST":
        weights = {rep.id: request.form.get(f"weight_{rep.id}", "").strip() for rep in reps}
        if form.validate_on_submit():
            values: dict[str, Any] = {
                "name": form.name.data,
                "active": form.active.data,
                "alert_on_registration": form.alert_on_registration.data,
                **form.condition_values(),
            }
            try:
                if form.target.data == "rep":
                    chosen = form.target_rep.data or ""
                    values["target_rep_id"] = int(chosen) if chosen.isdigit() else -1
                else:
                    values["members"] = [
                        (rep_id, int(weight)) for rep_id, weight in weights.items() if weight
                    ]
            except ValueError:
                problems.append("Pool weights are whole numbers from 1 to 100.")
            if not problems:
                try:
                    saved = save_rule(rule, values)
                except Refusal as refusal:
                    db.session.rollback()
                    problems = show_refusal(form, refusal, RULE_FIELDS)
                else:
                    flash(f"Rule “{saved.name}” saved.", "ok")
                    return redirect(url_for("admin.routing"), code=303)
    return (
        render_template(
            "followup/rule_form.html",
            form=form,
            rule=rule,
            reps=reps,
            weights=weights,
            problems=problems,
        ),
        422 if request.method == "POST" else 200,
    )


@bp.post("/routing/rules/<int:rule_id>/move")
@roles_required()
def move(rule_id: int) -> Response:
    rule = _rule_or_404(rule_id)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    move_rule(rule, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("admin.routing"), code=303)


@bp.post("/routing/rules/<int:rule_id>/delete")
@roles_required()
def remove_rule(rule_id: int) -> Response:
    rule = _rule_or_404(rule_id)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    name = rule.name
    delete_rule(rule)
    flash(f"Rule “{name}” deleted.", "ok")
    return redirect(url_for("admin.routing"), code=303)


@bp.route("/routing/settings", methods=["GET", "POST"])
@roles_required()
def followup_settings() -> Any:
    current = load_settings()
    form = SettingsForm(
        data={
            "hot_score": current.hot_score,
            "warm_score": current.warm_score,
            "sla_hot": current.sla_minutes["hot"],
            "sla_warm": current.sla_minutes["warm"],
            "sla_cold": current.sla_minutes["cold"],
            "workday_start": current.workday_start.strftime("%H:%M"),
            "workday_end": current.workday_end.strftime("%H:%M"),
            "workdays": [str(day) for day in sorted(current.workdays)],
            "escalate_after_minutes": current.escalate_after_minutes,
            "route_after_minutes": current.route_after_minutes,
        }
    )
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            save_settings(
                {
                    "hot_score": form.hot_score.data,
                    "warm_score": form.warm_score.data,
                    "sla_minutes": {
                        "hot": form.sla_hot.data,
                        "warm": form.sla_warm.data,
                        "cold": form.sla_cold.data,
                    },
                    "workday_start": form.workday_start.data,
                    "workday_end": form.workday_end.data,
                    "workdays": [int(day) for day in form.workdays.data or []],
                    "escalate_after_minutes": form.escalate_after_minutes.data,
                    "route_after_minutes": form.route_after_minutes.data,
                }
            )
        except Refusal as refusal:
            db.session.rollback()
            problems = show_refusal(form, refusal, SETTINGS_FIELDS)
        else:
            db.session.commit()
            flash("Follow-up settings saved; they apply to the next routing.", "ok")
            return redirect(url_for("admin.routing"), code=303)
    return (
        render_template("followup/settings.html", form=form, problems=problems),
        422 if request.method == "POST" else 200,
    )
