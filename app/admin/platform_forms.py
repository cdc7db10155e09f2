"""The console's webinar platform forms: each field saves one credential, named after its
environment variable. Secrets are password fields that are never filled in: left blank, the
saved secret stays; its "remove" box clears it."""

from __future__ import annotations

from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.fields.core import UnboundField

from app.platforms.credentials import SECRET_KEYS


class PlatformForm(FlaskForm):
    """A platform's OAuth client and what else it needs: a field `client_id` of the form whose
    PREFIX is `GOTO` saves `GOTO_CLIENT_ID`."""

    PREFIX: ClassVar[str]
    # Form field name -> the credential it saves, filled in for each platform's form below.
    KEYS: ClassVar[dict[str, str]] = {}

    client_id = StringField("Client ID")
    client_secret = PasswordField("Client secret")
    remove_client_secret = BooleanField("Remove the saved client secret")

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.KEYS = {
            name: f"{cls.PREFIX}_{name.upper()}"
            for klass in reversed(cls.__mro__)
            for name, value in vars(klass).items()
            if isinstance(value, UnboundField) and not name.startswith("remove_")
        }

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
    PREFIX = "ZOOM"

    account_id = StringField("Account ID")
    webhook_secret_token = PasswordField("Webhook secret token")
    remove_webhook_secret_token = BooleanField("Remove the saved webhook secret token")


class GoToForm(PlatformForm):
    PREFIX = "GOTO"

    organizer_key = StringField("Organizer key")
    refresh_token = PasswordField("Refresh token")
    remove_refresh_token = BooleanField("Remove the saved refresh token")
