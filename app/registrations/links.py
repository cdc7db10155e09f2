"""Manage links: a random token per registration, signed so a forged link is refused early,
and good until a set time after the event ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app
from flask_babel import gettext
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from app.db import db, utcnow
from app.languages import N_, speak
from app.registrations.models import Registration

MANAGE_SALT = "manage-registration"


def signed_token(registration: Registration, salt: str = MANAGE_SALT) -> str:
    """The registration's random token, signed for one use (the salt names it)."""
    signer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)
    return str(signer.dumps(registration.manage_token))


def registration_signed(token: str, salt: str = MANAGE_SALT) -> Registration | None:
    """The registration a token signed with `salt` names, or None for a forged or unknown one."""
    try:
        raw = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt).loads(token)
    except BadData:
        return None
    if not isinstance(raw, str):
        return None
    return db.session.scalar(select(Registration).where(Registration.manage_token == raw))


def manage_token(registration: Registration) -> str:
    return signed_token(registration)


def manage_url(registration: Registration) -> str:
    return f"{current_app.config['BASE_URL']}/r/{manage_token(registration)}"


def registration_for(token: str) -> Registration | None:
    """The registration a manage link points at, or None for a forged or unknown link."""
    return registration_signed(token)


def expires_at(registration: Registration) -> datetime:
    """When the registration's manage link stops working: `MANAGE_LINK_DAYS_AFTER_EVENT` days
    after its event ends, so an old email in a forwarded thread opens nothing for ever."""
    days = current_app.config["MANAGE_LINK_DAYS_AFTER_EVENT"]
    return registration.event.ends_at + timedelta(days=days)


def open_link(token: str, now: datetime | None = None) -> Registration:
    """The registration behind a manage link a visitor opened; every `/r/<token>` page asks
    here, and the page (or its error) speaks the registration's language from here on. A forged or
    unknown link is a 404; one past its time a 410."""
    registration = registration_for(token)
    if registration is None:
        abort(
            404, N_("This link is not valid. Check that you copied the whole link from your email.")
        )
    speak(registration.language)
    if (now or utcnow()) >= expires_at(registration):
        abort(
            410,
            gettext(
                "This link has expired: registration links stop working %(days)s days after "
                "the event ends.",
                days=current_app.config["MANAGE_LINK_DAYS_AFTER_EVENT"],
            ),
        )
    return registration
