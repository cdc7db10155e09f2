"""A registrant's own erasure request: asked for on the manage page, confirmed by opening
the link emailed to the registration's address (signed, expiring), then erased.

The manage link alone is not enough, since it travels in forwarded emails; the confirming
link goes only to the mailbox and names the registration and the hash of its address, so a
link for an address already erased (or a registration reused) opens nothing.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer

from app.db import db, writing
from app.languages import N_, speak
from app.privacy import bp, signals
from app.privacy.people import erase_person
from app.privacy.registry import email_hash
from app.registrations.links import open_link
from app.registrations.models import Registration

ERASE_SALT = "erase-person"


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a step a stray click cannot take."""


def erasure_url(registration: Registration) -> str:
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ERASE_SALT)
    token = signer.dumps({"r": registration.id, "h": email_hash(registration.email_normalized)})
    return f"{current_app.config['BASE_URL']}/privacy/erase/{token}"


def _registration_confirming(token: str) -> Registration | None:
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ERASE_SALT)
    max_age = int(current_app.config["ERASURE_LINK_HOURS"] * 3600)
    try:
        claim = signer.loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(claim, dict) or not isinstance(claim.get("r"), int):
        return None
    registration = db.session.get(Registration, claim["r"])
    if registration is None or email_hash(registration.email_normalized) != claim.get("h"):
        return None
    return registration


@bp.route("/r/<token>/erase", methods=["GET", "POST"])
def ask(token: str) -> str:
    """The manage page's "Erase my data": says what goes, and emails the confirming link."""
    registration = open_link(token)
    speak(registration.language)
    form = ConfirmForm()
    sent = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, N_("This form has expired. Reload the page and try again."))
        url = erasure_url(registration)
        with writing():
            signals.erasure_requested.send(registration, url=url)
        sent = True
    return render_template(
        "privacy/ask.html",
        registration=registration,
        event=registration.event,
        token=token,
        form=form,
        sent=sent,
        hours=current_app.config["ERASURE_LINK_HOURS"],
    )


@bp.route("/privacy/erase/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str:
    """The emailed link: one more click, then everything about the address is erased."""
    registration = _registration_confirming(token)
    if registration is None:
        abort(
            404,
            N_("This link is not valid or has expired. Ask again from your registration page."),
        )
    speak(registration.language)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, N_("This form has expired. Reload the page and try again."))
        erase_person(registration.email_normalized, actor="registrant", source="registrant")
        return render_template("privacy/erased.html")
    return render_template("privacy/confirm.html", form=form, token=token)
