"""Who our emails and calendar invites come from: the sender staff chose in the console, else
MAIL_DEFAULT_SENDER. Mail headers, invite ORGANIZERs and the settings page all read it here."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import Engine

from app import fields
from app.db import db
from app.models import Setting
from app.refusals import Refusal

SENDER_KEY = "sender"


@dataclass(frozen=True)
class Sender:
    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2] or "localhost"


class SenderRejected(Refusal):
    """A sender name or address that cannot go into a mail header."""

    default_message = "The sender was not saved."


def current_sender() -> Sender:
    chosen = db.session.get(Setting, SENDER_KEY)
    value = chosen.value if chosen is not None else None
    if isinstance(value, dict) and value.get("email"):
        return Sender(str(value.get("name") or ""), str(value["email"]))
    name, address = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    return Sender(name, address or "events@localhost")


# A Message-ID's domain is read at most this often per process and database.
DOMAIN_SECONDS = 60.0
# Per database (an app's engine): when its sender's domain was read, and what it was.
_domains: weakref.WeakKeyDictionary[Engine, tuple[float, str]] = weakref.WeakKeyDictionary()


def message_id_domain() -> str:
    """The domain a message queued now ends its Message-ID in: the sender's, read at most once
    a minute. A Message-ID only has to be unique, so a process that goes on with the former
    domain for a minute after staff change the sender breaks nothing, and a rush of
    registrations does not read the setting once each."""
    now = time.monotonic()
    cached = _domains.get(db.engine)
    if cached is not None and now - cached[0] < DOMAIN_SECONDS:
        return cached[1]
    domain = current_sender().domain
    _domains[db.engine] = (now, domain)
    return domain


def save_sender(name: str, email: str) -> Sender:
    problems: dict[str, str] = {}
    name = " ".join(name.split())
    # A line break in a header value would let the name add headers of its own.
    if not name or len(name) > 100 or fields.CONTROL_IN_LINE.search(name):
        problems["name"] = "Use one line of up to 100 characters."
    try:
        email, _ = fields.normalize_email(email)
    except fields.InvalidValue as exc:
        problems["email"] = str(exc)
    if problems:
        raise SenderRejected(fields=problems)
    value = {"name": name, "email": email}
    setting = db.session.get(Setting, SENDER_KEY)
    if setting is None:
        db.session.add(Setting(key=SENDER_KEY, value=value))
    else:
        setting.value = value
    db.session.commit()
    _domains.pop(db.engine, None)
    return Sender(name, email)
