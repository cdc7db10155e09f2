"""Finding people by what staff type: one search text, looked for in a registration's or a
lead's email, full name and company, the same way in the console and the API."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.fields import CONTROL_IN_LINE
from app.registrations.models import Lead, Registration

# The longest column searched (a company name); the API refuses a longer `q`.
SEARCH_LENGTH = 200


def search_text(raw: str | None) -> str:
    """What is looked for: control characters read as spaces, each run of white space as one
    space, at most SEARCH_LENGTH characters. "" means no search: everyone is listed."""
    return " ".join(CONTROL_IN_LINE.sub(" ", raw or "").split())[:SEARCH_LENGTH]


def registration_matches(raw: str) -> ColumnElement[bool]:
    """Registrations whose email, full name or company hold the text, case ignored."""
    return _person_matches(
        search_text(raw),
        Registration.email_normalized,
        Registration.first_name,
        Registration.last_name,
        Registration.company,
    )


def lead_matches(raw: str) -> ColumnElement[bool]:
    """Leads whose email, full name or company hold the text, case ignored."""
    return _person_matches(
        search_text(raw), Lead.email, Lead.first_name, Lead.last_name, Lead.company
    )


def _person_matches(
    text: str,
    email: InstrumentedAttribute[str],
    first_name: InstrumentedAttribute[str],
    last_name: InstrumentedAttribute[str],
    company: InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    # autoescape: a `%` or `_` in the text is that character, not a LIKE wildcard.
    full_name = first_name + " " + last_name
    return or_(
        email.icontains(text, autoescape=True),
        full_name.icontains(text, autoescape=True),
        company.icontains(text, autoescape=True),
    )
