"""How the console shows a service's refusal: each message next to the field it names, the
rest above the form, or in a flash message when the action's page is left by a redirect."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash
from flask_wtf import FlaskForm

from app.refusals import Refusal


def show_refusal(
    form: FlaskForm, refusal: Refusal, names: Mapping[str, str | None] | None = None
) -> list[str]:
    """Put each of the refusal's field messages next to its form field; return the messages
    no field of the form shows (the refusal's own message when it names no field).

    `names` maps a service's field name to the form's where the two differ (`price_cents` is
    the form's `price`), or to None when the form has no field for it.
    """
    names = names or {}
    general = []
    for name, message in refusal.fields.items():
        target = names.get(name, name)
        field = form._fields.get(target) if target else None
        if field is None:
            general.append(message)
        else:
            field.errors = [*field.errors, message]
    return general if refusal.fields else [refusal.message]


def flash_refusal(refusal: Refusal, lead: str = "") -> None:
    """Say why the action was refused, for the page the browser is sent to next."""
    flash(lead + (" ".join(refusal.fields.values()) or refusal.message), "error")
