"""The console's forms: registrations added by hand, staff, rep profiles, the sender and API
tokens, and the validators every console form shares (the event forms are in `event_forms`).

Field rules come from `app.fields` and the model columns; the services check the rest and
their messages are shown next to the same fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as Invalid

from app import fields
from app.admin.zones import zone_choices
from app.auth.tokens import MAX_EXPIRY_DAYS
from app.db import column_length
from app.models import ROLES, ApiToken, User
from app.registrations.forms import checked_by as shared_checked_by
from app.registrations.models import Registration
from app.registrations.services import Registrant

ROLE_LABELS = {
    "admin": "Admin: everything, including settings and staff",
    "marketer": "Marketer: events, registrations and reports",
    "rep": "Sales rep: their follow-up list",
}


def checked_by(rule: Callable[[str], Any]) -> Callable[[FlaskForm, Any], None]:
    # The public form's validator, letting later validators on the field speak too.
    return shared_checked_by(rule, error=Invalid)


def at_most(limit: int) -> Callable[[FlaskForm, Any], None]:
    """At most `limit` characters, refused in the words the API and the services use."""

    def check(form: FlaskForm, field: Any) -> None:
        if field.data and (problem := fields.length_problem(field.data, limit)):
            raise Invalid(problem)

    return check


def one_line(form: FlaskForm, field: Any) -> None:
    # PostgreSQL cannot store NUL, and a line break in a name could end up in a mail header.
    if field.data and fields.CONTROL_IN_LINE.search(field.data):
        raise Invalid("Use one line of plain text, without control characters.")


def plain_text(form: FlaskForm, field: Any) -> None:
    if field.data and fields.CONTROL_IN_TEXT.search(field.data):
        raise Invalid("Remove the invisible control characters from this text.")


class RegistrationForm(FlaskForm):
    """A registration staff add by hand: the same fields and rules as the landing page."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter the email address."),
            Length(max=column_length(Registration, "email")),
            checked_by(fields.normalize_email),
        ],
    )
    first_name = StringField(
        "First name",
        validators=[
            DataRequired("Enter the first name."),
            Length(max=column_length(Registration, "first_name")),
            one_line,
        ],
    )
    last_name = StringField(
        "Last name",
        validators=[Optional(), Length(max=column_length(Registration, "last_name")), one_line],
    )
    company = StringField(
        "Company",
        validators=[Optional(), Length(max=column_length(Registration, "company")), one_line],
    )
    job_title = StringField(
        "Job title",
        validators=[Optional(), Length(max=column_length(Registration, "job_title")), one_line],
    )
    country = SelectField(
        "Country", validators=[Optional(), checked_by(fields.country_code)], validate_choice=False
    )
    phone = TelField(
        "Phone", validators=[Optional(), Length(max=column_length(Registration, "phone")), one_line]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", "Not known"), *fields.country_choices()]

    def validate_phone(self, field: Any) -> None:
        if field.data:
            try:
                fields.phone_number(field.data, self.country.data or None)
            except fields.InvalidValue as exc:
                raise Invalid(str(exc)) from None

    def registrant(self) -> Registrant:
        typed = {name: self[name].data for name in Registrant.TYPED}
        return Registrant.from_typed(typed, utm_source="console", utm_medium="staff")


class ActionForm(FlaskForm):
    """Only the CSRF token: the buttons for publish, duplicate, cancel, promote and check-in."""


def check_action() -> None:
    """Stop a button's POST whose CSRF token is missing or stale, before it changes anything."""
    if not ActionForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")


def _role_choices() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[role]) for role in ROLES]


class StaffForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter a name."),
            Length(max=column_length(User, "name")),
            one_line,
        ],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=column_length(User, "email")),
            checked_by(fields.normalize_email),
        ],
    )
    role = SelectField("Role", choices=_role_choices)
    invite = BooleanField("Email them an invitation with a link to set their own password")
    password = PasswordField(
        "First password (optional with an invitation)", validators=[Optional(), Length(max=1024)]
    )


class StaffEditForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter a name."),
            Length(max=column_length(User, "name")),
            one_line,
        ],
    )
    role = SelectField("Role", choices=_role_choices)
    active = BooleanField("Active: can log in")
    password = PasswordField(
        "New password (leave empty to keep the current one)",
        validators=[Optional(), Length(max=1024)],
    )


class RepProfileForm(FlaskForm):
    countries = StringField(
        "Territory countries",
        validators=[Optional(), Length(max=2000), one_line],
    )
    segments = StringField("Segments", validators=[Optional(), Length(max=2000), one_line])
    weight = IntegerField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Weight",
        validators=[InputRequired("Enter a weight from 1 to 100.")],
        invalid_value_message="Enter the weight as a whole number.",
    )
    capacity = IntegerField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Capacity (open follow-ups)",
        validators=[Optional()],
        invalid_value_message="Enter a whole number, or leave it empty for no limit.",
    )
    out_of_office_until = DateField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Out of office until",
        validators=[Optional()],
        invalid_value_message="Enter a date such as 2026-12-24, or leave it empty.",
    )
    timezone = SelectField(
        "Time zone",
        validators=[DataRequired("Choose the rep's time zone."), checked_by(fields.time_zone)],
        validate_choice=False,
    )
    active = BooleanField("Takes new follow-ups")
    meeting_url = StringField("Meeting link", validators=[Optional(), Length(max=500), one_line])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(self.timezone.data)

    def values(self) -> dict[str, Any]:
        return {
            "countries": [code for code in re.split(r"[\s,;]+", self.countries.data or "") if code],
            "segments": [item for item in (self.segments.data or "").split(",") if item.strip()],
            "weight": self.weight.data,
            "capacity": self.capacity.data,
            "out_of_office_until": self.out_of_office_until.data,
            "timezone": self.timezone.data,
            "active": bool(self.active.data),
            "meeting_url": self.meeting_url.data or None,
        }


class BrandForm(FlaskForm):
    """The organization's identity on public pages; app.brand checks each value. It shares
    the settings page with the sender's form, so its ids are its own (labels point at ids)."""

    name = StringField("Organization name", id="brand_name")
    logo_url = StringField("Logo address")
    accent = StringField("Accent colour")
    footer = TextAreaField("Footer text")


class SenderForm(FlaskForm):
    name = StringField(
        "Sender name",
        validators=[
            DataRequired("Enter the name emails come from."),
            Length(max=100),
            one_line,
        ],
    )
    email = EmailField(
        "Sender address",
        validators=[
            DataRequired("Enter the address emails come from."),
            Length(max=254),
            checked_by(fields.normalize_email),
        ],
    )


class TokenForm(FlaskForm):
    name = StringField(
        "Name (optional)",
        validators=[Optional(), Length(max=column_length(ApiToken, "name")), one_line],
    )
    expires_in_days = IntegerField(
        "Expires after (days, optional)",
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_EXPIRY_DAYS,
                message=f"Use a whole number of days from 1 to {MAX_EXPIRY_DAYS}.",
            ),
        ],
    )
