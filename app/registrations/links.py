"""Manage links: a random token per registration, signed so a forged link is refused early."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from app.db import db
from app.registrations.models import Registration


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="manage-registration")


def manage_token(registration: Registration) -> str:
    return str(_signer().dumps(registration.manage_token))


def manage_url(registration: Registration) -> str:
    return f"{current_app.config['BASE_URL']}/r/{manage_token(registration)}"


def registration_for(token: str) -> Registration | None:
    """The registration a manage link points at, or None for a forged or unknown link."""
    try:
        raw = _signer().loads(token)
    except BadData:
        return None
    if not isinstance(raw, str):
        return None
    return db.session.scalar(select(Registration).where(Registration.manage_token == raw))
