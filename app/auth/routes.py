"""/login and /logout for staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import bp, sessions
from app.auth.access import home_for, is_api_request, roles_required, safe_next, token_user
from app.auth.forms import LoginForm, LogoutForm
from app.auth.staff import authenticate
from app.extensions import limiter
from app.models import ROLES


@bp.before_app_request
def _nothing_cached_from_another_request() -> None:
    # Flask runs a request inside an app context that is already pushed (tests, scripts), and
    # so shares its `g`; the user Flask-Login and the CSRF token Flask-WTF cache there belong
    # to one request's session only.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    # Who is calling is settled first, while the view has written nothing: checking a
    # session or token may record its use in a short transaction of its own.
    if is_api_request():
        token_user()
    elif sessions.SESSION_KEY in session and request.endpoint != "static":
        current_user._get_current_object()


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _login_email() -> str:
    # Limits guessing at one account from many addresses, beside the per-address limit.
    return "login-email:" + request.form.get("email", "").strip().lower()[:254]


def login_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """The login page's rate limits, per client address and per email typed, on its posts;
    "forgot password" shares them, so neither lets anyone guess or flood faster.

    The per-address limit is registered first, so it is the one checked first and the one the
    X-RateLimit-* headers report (Flask-Limiter reports the first of equal limits unless one
    was breached): a client sees its own count, not the count of whatever email it typed.
    """
    limited = limiter.limit(_login_limit, methods=["POST"])(view)
    return limiter.limit(_login_limit, key_func=_login_email, methods=["POST"])(limited)


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or home_for(current_user))
        return render_template("auth/login.html", form=form)
    problem = None
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            target = safe_next(form.next.data) or home_for(user)
            sessions.begin(user)
            return redirect(target, code=303)
        problem = "That email and password do not match an active staff account."
    form.password.data = ""
    return render_template("auth/login.html", form=form, problem=problem), 422


@bp.route("/logout", methods=["GET", "POST"])
@roles_required(*ROLES)
def logout() -> Response | str:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        sessions.end_current()
        flash("You have logged out.", "ok")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/logout.html", form=form)
