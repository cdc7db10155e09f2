"""The login form, and the forms that ask for a set-your-password link and use it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

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


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=254), one_line],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), Length(max=1024)]
    )
    confirm = PasswordField(
        "The same password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ; type the same one twice."),
        ],
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is one button."""
