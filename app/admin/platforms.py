"""The console's "Webinar platforms" settings, for admins: Zoom's and GoTo's credentials (secrets
write-only), whether each is set up, GoTo's "Test connection" and its "Connect GoTo" OAuth flow."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActionForm
from app.admin.platform_forms import GoToForm, PlatformForm, ZoomForm
from app.auth.access import roles_required
from app.db import db
from app.pages import show_refusal
from app.platforms import goto_oauth
from app.platforms.base import PlatformError
from app.platforms.credentials import (
    SECRET_KEYS,
    CredentialRejected,
    console_value,
    goto_credentials,
    setting,
    source_of,
    store,
    zoom_credentials,
)
from app.platforms.goto import GoToConnector

# A secret this long may show its last four characters; a shorter one shows only that it is set.
TAIL_SHOWN_FROM = 16
# The nonce of the GoTo consent this session started, checked against the callback's state.
_NONCE_KEY = "goto_oauth_nonce"


@dataclass(frozen=True)
class Credential:
    """One credential as the page shows it: never a secret's value."""

    label: str
    source: str | None  # "console", "configuration", or None when unset
    shown: str


def _credential(form: PlatformForm, name: str) -> Credential:
    key = form.KEYS[name]
    value = setting(key)
    if not value:
        shown = "not set"
    elif key not in SECRET_KEYS:
        shown = value
    elif len(value) >= TAIL_SHOWN_FROM:
        shown = f"saved, ends in …{value[-4:]}"
    else:
        shown = "saved"
    return Credential(str(form[name].label.text), source_of(key), shown)


def _form(form_class: type[PlatformForm], prefix: str) -> PlatformForm:
    """A fresh form, its plain fields holding what the console saved (secrets stay empty)."""
    saved = {
        name: console_value(key) or ""
        for name, key in form_class.KEYS.items()
        if key not in SECRET_KEYS
    }
    return form_class(prefix=prefix, formdata=None, data=saved)


def _page(
    zoom_form: PlatformForm | None = None,
    goto_form: PlatformForm | None = None,
    problems: list[str] | None = None,
) -> str:
    zoom_form = zoom_form or _form(ZoomForm, "zoom")
    goto_form = goto_form or _form(GoToForm, "goto")
    return render_template(
        "admin/platforms.html",
        zoom_form=zoom_form,
        goto_form=goto_form,
        zoom=[_credential(zoom_form, name) for name in zoom_form.KEYS],
        goto=[_credential(goto_form, name) for name in goto_form.KEYS],
        zoom_configured=zoom_credentials().configured(),
        goto_configured=goto_credentials().configured(),
        callback_url=_callback_url(),
        problems=problems or [],
    )


def _callback_url() -> str:
    return current_app.config["BASE_URL"] + url_for("admin.goto_settings_callback")


def _back() -> Any:
    return redirect(url_for("admin.platform_settings"), code=303)


@bp.get("/settings/platforms")
@roles_required()
def platform_settings() -> Any:
    return _page()


def _save(form: PlatformForm, label: str) -> Any:
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            store(form.changes())
        except CredentialRejected as refusal:
            problems = show_refusal(form, refusal, form.field_names())
        else:
            db.session.commit()
            flash(f"{label} settings saved.", "ok")
            return _back()
    if isinstance(form, ZoomForm):
        return _page(zoom_form=form, problems=problems), 422
    return _page(goto_form=form, problems=problems), 422


@bp.post("/settings/platforms/zoom")
@roles_required()
def zoom_settings() -> Any:
    return _save(ZoomForm(prefix="zoom"), "Zoom")


@bp.post("/settings/platforms/goto")
@roles_required()
def goto_settings() -> Any:
    return _save(GoToForm(prefix="goto"), "GoTo Webinar")


def _check_csrf() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")


@bp.post("/settings/platforms/goto/test")
@roles_required()
def goto_settings_test() -> Any:
    _check_csrf()
    try:
        answer = GoToConnector.from_settings().check()
    except PlatformError as error:
        flash(f"GoTo did not connect: {error.message}", "error")
    else:
        # GoTo may have issued a new refresh token with this one; the connector saved it.
        db.session.commit()
        minutes = round(answer.expires_in / 60)
        flash(f"GoTo connected: it issued an access token for {minutes} minutes.", "ok")
    return _back()


@bp.post("/settings/platforms/goto/connect")
@roles_required()
def goto_settings_connect() -> Any:
    _check_csrf()
    nonce = secrets.token_urlsafe(16)
    try:
        url = goto_oauth.consent_url(_callback_url(), current_user.id, nonce)
    except PlatformError as error:
        flash(error.message, "error")
        return _back()
    session[_NONCE_KEY] = nonce
    return redirect(url, code=303)


@bp.get("/settings/platforms/goto/callback")
@roles_required()
def goto_settings_callback() -> Any:
    nonce = session.pop(_NONCE_KEY, None)
    if not goto_oauth.state_is_valid(request.args.get("state", ""), current_user.id, nonce):
        abort(
            400,
            "This GoTo connection link is not valid here: it expired, or was started in "
            "another browser. Start again with Connect GoTo.",
        )
    if refused := request.args.get("error"):
        said = request.args.get("error_description") or refused
        flash(f"GoTo did not connect: {said[:200]}", "error")
        return _back()
    code = request.args.get("code", "")
    if not code:
        abort(400, "GoTo sent no authorization code. Start again with Connect GoTo.")
    try:
        answer = goto_oauth.connect(code, _callback_url())
    except PlatformError as error:
        flash(f"GoTo did not connect: {error.message}", "error")
        return _back()
    if answer.organizer_key or setting("GOTO_ORGANIZER_KEY"):
        flash("GoTo connected.", "ok")
    else:
        flash("GoTo connected. It did not say the organizer key: enter it below.", "error")
    return _back()
