"""The "Reserve your spot" form; its field rules come from `app.fields` and the model's columns."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app import fields
from app.registrations.models import Registration
from app.registrations.services import Registrant


def column_length(name: str) -> int:
    return Registration.__table__.c[name].type.length


def _checked_by(rule: Any):  # type: ignore[no-untyped-def]
    """A WTForms validator that runs one of the shared rules in `app.fields`."""

    def check(form: FlaskForm, field: Any) -> None:
        if not field.data:
            return
        try:
            rule(field.data)
        except fields.InvalidValue as exc:
            raise ValidationError(str(exc)) from None

    return check


class ReserveForm(FlaskForm):
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=column_length("email")),
            _checked_by(fields.normalize_email),
        ],
    )
    first_name = StringField(
        "First name",
        validators=[
            DataRequired("Enter your first name."),
            Length(max=column_length("first_name")),
        ],
    )
    last_name = StringField(
        "Last name", validators=[Optional(), Length(max=column_length("last_name"))]
    )
    company = StringField("Company", validators=[Optional(), Length(max=column_length("company"))])
    job_title = StringField(
        "Job title", validators=[Optional(), Length(max=column_length("job_title"))]
    )
    country = SelectField(
        "Country",
        validators=[Optional(), _checked_by(fields.country_code)],
        validate_choice=False,
    )
    phone = TelField(
        "Phone (optional)", validators=[Optional(), Length(max=column_length("phone"))]
    )
    consent_marketing = BooleanField()
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()
    referrer = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", "Choose your country"), *fields.country_choices()]

    def validate_phone(self, field: Any) -> None:
        if field.data:
            try:
                fields.phone_number(field.data, self.country.data or None)
            except fields.InvalidValue as exc:
                raise ValidationError(str(exc)) from None

    def registrant(self) -> Registrant:
        """The validated form as the service's input."""
        email, key = fields.normalize_email(self.email.data)
        country = fields.country_code(self.country.data) if self.country.data else None
        phone = fields.phone_number(self.phone.data, country) if self.phone.data else None
        return Registrant(
            email=email,
            email_normalized=key,
            first_name=self.first_name.data.strip(),
            last_name=(self.last_name.data or "").strip(),
            company=(self.company.data or "").strip(),
            job_title=(self.job_title.data or "").strip(),
            country=country,
            phone=phone,
            utm_source=_hidden(self.utm_source.data, column_length("utm_source")),
            utm_medium=_hidden(self.utm_medium.data, column_length("utm_medium")),
            utm_campaign=_hidden(self.utm_campaign.data, column_length("utm_campaign")),
            referrer=_hidden(self.referrer.data, column_length("referrer")),
            consent_marketing=bool(self.consent_marketing.data),
        )


def _hidden(value: str | None, limit: int) -> str | None:
    # Tracking fields are not the visitor's to fix: trim them rather than refuse the form.
    return (value or "").strip()[:limit] or None


class CancelForm(FlaskForm):
    """Only the CSRF token: cancelling is one button."""
