"""The console's webinar platform forms: each field saves one credential, named after its
environment variable. Secrets are password fields that are never filled in: left blank, the
saved secret stays; its "remove" box clears it."""

from __future__ import annotations

from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField

from app.platforms.credentials import SECRET_KEYS


class PlatformForm(FlaskForm):
    # Form field name -> the credential it saves (its environment variable's name).
    KEYS: ClassVar[dict[str, str]] = {}

    def changes(self) -> dict[str, str | None]:
        """What to save: a plain field's text (blank: the console's value is removed, so the
        configuration's applies); a secret's new text, None when removed, nothing when blank."""
        changes: dict[str, str | None] = {}
        for name, key in self.KEYS.items():
            value = (self[name].data or "").strip()
            if key not in SECRET_KEYS:
                changes[key] = value or None
            elif self["remove_" + name].data:
                changes[key] = None
            elif value:
                changes[key] = value
        return changes

    def field_names(self) -> dict[str, str | None]:
        """Credential -> form field, to show a refusal beside its field."""
        return {key: name for name, key in self.KEYS.items()}


class ZoomForm(PlatformForm):
    KEYS: ClassVar[dict[str, str]] = {
        "account_id": "ZOOM_ACCOUNT_ID",
        "client_id": "ZOOM_CLIENT_ID",
        "client_secret": "ZOOM_CLIENT_SECRET",
        "webhook_secret_token": "ZOOM_WEBHOOK_SECRET_TOKEN",
    }

    account_id = StringField("Account ID")
    client_id = StringField("Client ID")
    client_secret = PasswordField("Client secret")
    remove_client_secret = BooleanField("Remove the saved client secret")
    webhook_secret_token = PasswordField("Webhook secret token")
    remove_webhook_secret_token = BooleanField("Remove the saved webhook secret token")


class GoToForm(PlatformForm):
    KEYS: ClassVar[dict[str, str]] = {
        "client_id": "GOTO_CLIENT_ID",
        "client_secret": "GOTO_CLIENT_SECRET",
        "organizer_key": "GOTO_ORGANIZER_KEY",
        "refresh_token": "GOTO_REFRESH_TOKEN",
    }

    client_id = StringField("Client ID")
    client_secret = PasswordField("Client secret")
    remove_client_secret = BooleanField("Remove the saved client secret")
    organizer_key = StringField("Organizer key")
    refresh_token = PasswordField("Refresh token")
    remove_refresh_token = BooleanField("Remove the saved refresh token")
