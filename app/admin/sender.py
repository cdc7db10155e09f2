"""The name and address emails come from, kept in the `sender` setting staff edit."""

from __future__ import annotations

from email.utils import parseaddr

from flask import current_app

from app import fields
from app.db import db
from app.models import Setting

SENDER_KEY = "sender"


class SenderRejected(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("The sender was not saved.")
        self.fields = fields


def current_sender() -> dict[str, str]:
    """The stored sender, or the one MAIL_DEFAULT_SENDER names."""
    setting = db.session.get(Setting, SENDER_KEY)
    if setting is not None and isinstance(setting.value, dict):
        return {"name": setting.value.get("name", ""), "email": setting.value.get("email", "")}
    name, email = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    return {"name": name, "email": email}


def save_sender(name: str, email: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    name = " ".join(name.split())
    # A line break in a header value would let the name add headers of its own.
    if not name or len(name) > 100 or any(ord(char) < 32 for char in name):
        problems["name"] = "Use one line of up to 100 characters."
    try:
        email, _ = fields.normalize_email(email)
    except fields.InvalidValue as exc:
        problems["email"] = str(exc)
    if problems:
        raise SenderRejected(problems)
    value = {"name": name, "email": email}
    setting = db.session.get(Setting, SENDER_KEY)
    if setting is None:
        db.session.add(Setting(key=SENDER_KEY, value=value))
    else:
        setting.value = value
    db.session.commit()
    return value
