"""The rules for values people type (emails, countries, time zones, currencies, phones, lengths),
shared by forms, the API and the command line so that each is written once."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
import pycountry
from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext

from app.languages import DEFAULT, N_, current_language

# PostgreSQL cannot store NUL, and a line break in a one-line value (a name) could end up in a
# mail header; no one means to type the other control characters either.
CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
# Multi-line text (descriptions, notes) keeps its tabs and line breaks.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOT_AN_EMAIL = N_("Enter a valid email address, such as name@example.com.")


class InvalidValue(ValueError):
    """A value a person typed that we refuse, with a message to show next to the field.

    The message is English where the rule knows it by heart (marked `N_`; a public page shows
    it in its language through `app.languages.translated`), or written in the current
    language where it quotes a figure; the console and the API speak English either way."""


def length_problem(text: str, limit: int) -> str | None:
    """What a value longer than `limit` characters is told, or None when it fits."""
    if len(text) <= limit:
        return None
    return gettext(
        "Use at most %(limit)s characters (this has %(length)s).", limit=limit, length=len(text)
    )


def normalize_email(raw: str) -> tuple[str, str]:
    """Return (the address as typed but tidied, the key we match on: lower case)."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        # email-validator explains the fault in English only; another language says it plainly.
        if current_language() != DEFAULT:
            raise InvalidValue(gettext(NOT_AN_EMAIL)) from None
        raise InvalidValue(str(exc)) from None
    return checked.normalized, checked.normalized.lower()


def registrant_email(raw: str) -> tuple[str, str]:
    """`normalize_email` for people registering themselves: a throwaway address is refused,
    since it turns the form into a way to mail strangers and leaves a lead nobody can reach.
    Staff adding someone by hand use `normalize_email` and may keep any domain."""
    address, key = normalize_email(raw)
    if is_disposable(key.rpartition("@")[2]):
        raise InvalidValue(
            N_("This looks like a disposable email address; use one you will still read later.")
        )
    return address, key


def is_disposable(domain: str) -> bool:
    """True for a domain on the disposable-email-domains list, or a subdomain of one."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[start:]) in DISPOSABLE_DOMAINS for start in range(len(labels) - 1))


def country_code(raw: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper case."""
    code = raw.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise InvalidValue(N_("Use a two-letter ISO 3166 country code, such as US, DE or IN."))
    return code


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    # Built once per process: every landing page renders this list.
    return tuple(sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda p: p[1]))


def country_name(code: str | None) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else ""


def time_zone(raw: str) -> str:
    """An IANA time zone name such as Europe/Berlin."""
    name = raw.strip()
    if not name or name not in available_timezones():
        raise InvalidValue("Use an IANA time zone name, such as Europe/Berlin or America/New_York.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue("Unknown time zone.") from None
    return name


def currency_code(raw: str) -> str:
    """An ISO 4217 currency code, upper case."""
    code = raw.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidValue("Use a three-letter currency code (ISO 4217), such as USD or EUR.")
    return code


@cache
def time_zone_choices() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def phone_number(raw: str, country: str | None) -> str:
    """A phone number in E.164; without a leading + the registrant's country decides."""
    try:
        parsed = phonenumbers.parse(raw.strip(), country or None)
    except phonenumbers.NumberParseException:
        raise InvalidValue(
            N_("Enter a phone number with its country code, such as +1 415 555 0100.")
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidValue(N_("This phone number has the wrong number of digits."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
