"""The login form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from app import fields


def one_line(form: FlaskForm, field: object) -> None:
    # PostgreSQL cannot compare text holding NUL; no address has control characters anyway.
    if fields.CONTROL_IN_LINE.search(getattr(field, "data", "") or ""):
        raise ValidationError("Enter your email address on one line.")


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=254), one_line],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is one button."""
