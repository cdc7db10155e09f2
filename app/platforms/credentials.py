"""Each webinar platform's credentials: the value an admin saved in the console, else the
configuration's. The connectors, the console and the worker all read them here.

Each value is one `Setting` row named after its environment variable (`platform:GOTO_CLIENT_ID`),
so saving one field, or the OAuth callback storing a refresh token, never overwrites another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app

from app import fields
from app.db import db
from app.models import Setting
from app.refusals import Refusal

ZOOM_KEYS = ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN")
GOTO_KEYS = ("GOTO_CLIENT_ID", "GOTO_CLIENT_SECRET", "GOTO_ORGANIZER_KEY", "GOTO_REFRESH_TOKEN")
# What the console never shows again once saved (only that it is set, and its last characters).
SECRET_KEYS = frozenset(
    {"ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN", "GOTO_CLIENT_SECRET", "GOTO_REFRESH_TOKEN"}
)
# A GoTo refresh token is a long JWT; nothing a platform issues is longer than this.
MAX_VALUE_CHARS = 4096
_ROW_PREFIX = "platform:"


class CredentialRejected(Refusal):
    default_message = "The platform settings were not saved."


@dataclass(frozen=True)
class ZoomCredentials:
    account_id: str | None
    client_id: str | None
    client_secret: str | None
    webhook_secret_token: str | None
    api_base: str
    oauth_base: str

    def configured(self) -> bool:
        return bool(self.account_id and self.client_id and self.client_secret)


@dataclass(frozen=True)
class GoToCredentials:
    client_id: str | None
    client_secret: str | None
    organizer_key: str | None
    refresh_token: str | None
    api_base: str
    oauth_base: str

    def configured(self) -> bool:
        return bool(
            self.client_id and self.client_secret and self.organizer_key and self.refresh_token
        )


def console_value(key: str) -> str | None:
    """What an admin saved for `key` in the console, if anything."""
    row = db.session.get(Setting, _ROW_PREFIX + key)
    return str(row.value) if row is not None and row.value else None


def setting(key: str) -> str | None:
    """The console's value for `key`, else the configuration's (the environment, or
    `create_app(config=...)`); None when neither has one."""
    if saved := console_value(key):
        return saved
    value = current_app.config.get(key)
    return str(value) if value else None


def source_of(key: str) -> str | None:
    """Where `key`'s value comes from: "console", "configuration" or None (unset)."""
    if console_value(key):
        return "console"
    return "configuration" if setting(key) else None


def _base(url: str | None) -> str:
    """A base address to put paths after: `https://zoom.us/` and `https://zoom.us` alike."""
    return (url or "").rstrip("/")


def zoom_credentials() -> ZoomCredentials:
    return ZoomCredentials(
        account_id=setting("ZOOM_ACCOUNT_ID"),
        client_id=setting("ZOOM_CLIENT_ID"),
        client_secret=setting("ZOOM_CLIENT_SECRET"),
        webhook_secret_token=setting("ZOOM_WEBHOOK_SECRET_TOKEN"),
        api_base=_base(setting("ZOOM_API_BASE")),
        oauth_base=_base(setting("ZOOM_OAUTH_BASE")),
    )


def goto_credentials() -> GoToCredentials:
    return GoToCredentials(
        client_id=setting("GOTO_CLIENT_ID"),
        client_secret=setting("GOTO_CLIENT_SECRET"),
        organizer_key=setting("GOTO_ORGANIZER_KEY"),
        refresh_token=setting("GOTO_REFRESH_TOKEN"),
        api_base=_base(setting("GOTO_API_BASE")),
        oauth_base=_base(setting("GOTO_OAUTH_BASE")),
    )


def store(changes: Mapping[str, str | None]) -> None:
    """Save console values in the session (the caller commits): a text replaces the saved one,
    None removes it (the configuration's applies again); keys not given keep their value."""
    problems: dict[str, str] = {}
    for key, value in changes.items():
        if key not in ZOOM_KEYS and key not in GOTO_KEYS:
            raise ValueError(f"{key} is not a platform setting the console keeps")
        if value is None:
            continue
        if not value.strip():
            problems[key] = "Enter a value, or remove it."
        elif len(value) > MAX_VALUE_CHARS:
            problems[key] = f"Use at most {MAX_VALUE_CHARS:,} characters."
        elif fields.CONTROL_IN_LINE.search(value) or " " in value.strip():
            problems[key] = "Paste the value as one word, without spaces or line breaks."
    if problems:
        raise CredentialRejected(fields=problems)
    for key, value in changes.items():
        row = db.session.get(Setting, _ROW_PREFIX + key)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(Setting(key=_ROW_PREFIX + key, value=value.strip()))
        else:
            row.value = value.strip()
