"""The "forgot password" page and the page a set-your-password link opens (invitations and
resets alike)."""

from __future__ import annotations

from flask import flash, redirect, render_template
from werkzeug.wrappers import Response

from app.auth import bp, passwords, sessions
from app.auth.access import home_for
from app.auth.forms import ForgotPasswordForm, SetPasswordForm
from app.auth.routes import login_limits
from app.auth.staff import StaffRejected
from app.pages import show_refusal


@bp.route("/password/forgot", methods=["GET", "POST"])
@login_limits
def forgot_password() -> str | tuple[str, int]:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 200 if not form.errors else 422
    passwords.send_reset(form.email.data or "")
    # The same page whether or not the address has an account.
    return render_template("auth/forgot_sent.html")


@bp.route("/password/set/<secret>", methods=["GET", "POST"])
def set_password(secret: str) -> Response | str | tuple[str, int]:
    user = passwords.user_for_link(secret)
    if user is None:
        return render_template("auth/link_expired.html"), 410
    form = SetPasswordForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            user = passwords.set_password_with_link(secret, form.password.data or "")
        except passwords.LinkNotValid:
            return render_template("auth/link_expired.html"), 410
        except StaffRejected as refusal:
            problems = show_refusal(form, refusal)
        else:
            sessions.begin(user)
            flash("Your password is set; you are logged in.", "ok")
            return redirect(home_for(user), code=303)
    code = 422 if form.is_submitted() else 200
    return render_template("auth/set_password.html", form=form, user=user, problems=problems), code
