"""Console settings, for admins only: staff users, rep profiles, the email sender and the
organization's identity on public pages."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.admin import bp
from app.admin.forms import (
    ActionForm,
    BrandForm,
    RepProfileForm,
    SenderForm,
    StaffEditForm,
    StaffForm,
)
from app.auth import passwords, sessions, tokens
from app.auth.access import roles_required
from app.auth.staff import add_staff, change_staff, update_rep_profile
from app.brand import current_brand, save_brand
from app.db import db
from app.models import RepProfile, User
from app.pages import show_refusal
from app.refusals import Refusal
from app.sender import current_sender, save_sender


def _staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User).options(selectinload(User.rep_profile)).order_by(User.name, User.id)
        )
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required()
def settings() -> Any:
    sender = current_sender()
    form = SenderForm(data={"name": sender.name, "email": sender.email})
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            save_sender(form.name.data or "", form.email.data or "")
        except Refusal as refusal:
            problems = show_refusal(form, refusal)
        else:
            flash("Sender saved: new emails come from this name and address.", "ok")
            return redirect(url_for("admin.settings"), code=303)
    return (
        render_template(
            "admin/settings.html",
            form=form,
            staff=_staff(),
            problems=problems,
            brand_form=_brand_form(),
            brand_problems=[],
        ),
        200 if request.method == "GET" else 422,
    )


def _brand_form() -> BrandForm:
    brand = current_brand()
    return BrandForm(
        data={
            "name": brand.name,
            "logo_url": brand.logo_url or "",
            "accent": brand.accent,
            "footer": brand.footer,
        }
    )


@bp.post("/settings/brand")
@roles_required()
def brand_settings() -> Any:
    """The organization's name, logo, accent colour and footer on the public pages."""
    form = BrandForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            save_brand({name: form[name].data for name in ("name", "logo_url", "accent", "footer")})
        except Refusal as refusal:
            db.session.rollback()
            problems = show_refusal(form, refusal)
        else:
            flash("Saved: the public pages now show this identity.", "ok")
            return redirect(url_for("admin.settings"), code=303)
    sender = current_sender()
    return (
        render_template(
            "admin/settings.html",
            form=SenderForm(data={"name": sender.name, "email": sender.email}),
            staff=_staff(),
            problems=[],
            brand_form=form,
            brand_problems=problems,
        ),
        422,
    )


@bp.route("/settings/staff/new", methods=["GET", "POST"])
@roles_required()
def new_staff() -> Any:
    form = StaffForm()
    problems: list[str] = []
    if request.method == "GET":
        form.role.data = "marketer"
        form.invite.data = True
    elif form.validate_on_submit():
        try:
            user = add_staff(
                form.email.data or "",
                form.name.data or "",
                form.role.data,
                form.password.data or None,
                invite=bool(form.invite.data),
                invited_by=current_user,
            )
        except Refusal as refusal:
            problems = show_refusal(form, refusal)
        else:
            if form.invite.data:
                flash(f"{user.name} is added as {user.role}; an invitation is on its way.", "ok")
            else:
                flash(f"{user.name} can log in now as {user.role}.", "ok")
            return redirect(url_for("admin.staff", user_id=user.id), code=303)
    return (
        render_template(
            "admin/staff_new.html",
            form=form,
            problems=problems,
            invitation_lasts=passwords.lifetime_in_words("invitation"),
        ),
        200 if request.method == "GET" else 422,
    )


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "There is no staff user with this number.")
    return user


def _rep_form(profile: RepProfile | None) -> RepProfileForm | None:
    if profile is None:
        return None
    return RepProfileForm(
        prefix="rep",
        formdata=None,
        data={
            "countries": ", ".join(profile.countries or []),
            "segments": ", ".join(profile.segments or []),
            "weight": profile.weight,
            "capacity": profile.capacity,
            "out_of_office_until": profile.out_of_office_until,
            "timezone": profile.timezone,
            "active": profile.active,
            "meeting_url": profile.meeting_url or "",
        },
    )


def _staff_page(
    user: User, form: StaffEditForm, rep_form: RepProfileForm | None, **extra: Any
) -> str:
    live_tokens = [row for row in tokens.tokens_of(user) if tokens.status(row) == "active"]
    return render_template(
        "admin/staff_edit.html",
        user=user,
        form=form,
        rep_form=rep_form,
        live_sessions=sessions.live_sessions(user),
        live_tokens=len(live_tokens),
        **extra,
    )


@bp.route("/settings/staff/<int:user_id>", methods=["GET", "POST"])
@roles_required()
def staff(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if request.method == "GET":
        form = StaffEditForm(
            formdata=None, data={"name": user.name, "role": user.role, "active": user.active}
        )
        return _staff_page(user, form, _rep_form(user.rep_profile))
    form = StaffEditForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            change_staff(
                user,
                acting=current_user,
                name=form.name.data or "",
                role=form.role.data,
                active=bool(form.active.data),
                password=form.password.data or None,
            )
        except Refusal as refusal:
            problems = show_refusal(form, refusal)
        else:
            if form.password.data and user.id == current_user.id:
                # Every session of the account just ended, this one too: the admin who
                # chose the new password goes on in a fresh session, other browsers do not.
                sessions.begin(user)
            flash(f"Saved {user.name}.", "ok")
            return redirect(url_for("admin.staff", user_id=user.id), code=303)
    return _staff_page(user, form, _rep_form(user.rep_profile), problems=problems), 422


@bp.post("/settings/staff/<int:user_id>/rep-profile")
@roles_required()
def rep_profile(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if user.rep_profile is None:
        abort(404, "This staff user has no rep profile; make them a rep first.")
    rep_form = RepProfileForm(prefix="rep")
    problems: list[str] = []
    if rep_form.validate_on_submit():
        try:
            update_rep_profile(user.rep_profile, rep_form.values())
        except Refusal as refusal:
            problems = show_refusal(rep_form, refusal)
        else:
            flash(f"Saved the rep profile of {user.name}.", "ok")
            return redirect(url_for("admin.staff", user_id=user.id), code=303)
    form = StaffEditForm(
        formdata=None, data={"name": user.name, "role": user.role, "active": user.active}
    )
    return _staff_page(user, form, rep_form, rep_problems=problems), 422


@bp.post("/settings/staff/<int:user_id>/sessions/end")
@roles_required()
def end_sessions(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    count = sessions.end_all(user)
    db.session.commit()
    if user.id == current_user.id:
        # "Everywhere" means every other browser: this one goes on in a fresh session.
        sessions.begin(user)
        count -= 1
    flash(f"{user.name} is logged out of {count} other session(s).", "ok")
    return redirect(url_for("admin.staff", user_id=user.id), code=303)


@bp.post("/settings/staff/<int:user_id>/tokens/revoke")
@roles_required()
def revoke_tokens(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    count = tokens.revoke_all(user)
    db.session.commit()
    flash(f"Revoked {count} API token(s) of {user.name}: they answer 401 from now on.", "ok")
    return redirect(url_for("admin.staff", user_id=user.id), code=303)
