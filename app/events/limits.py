"""The limits an event's values keep, written once: the console form and the API schema read
them to refuse a value early, and the events service refuses it again for every other caller
(the command line, the demo seed), with the same message naming the same field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app import fields
from app.db import column_length
from app.events.models import Campaign, Event

SLUG_LENGTH = column_length(Event, "slug")
TITLE_LENGTH = column_length(Event, "title")
# Markdown for a landing page; the column has no limit, a page should.
DESCRIPTION_LENGTH = 100_000
JOIN_URL_LENGTH = column_length(Event, "join_url")
LOCATION_LENGTH = column_length(Event, "location")
RECORDING_URL_LENGTH = column_length(Event, "recording_url")
CTA_URL_LENGTH = column_length(Event, "cta_url")
CTA_LABEL_LENGTH = column_length(Event, "cta_label")
COVER_IMAGE_URL_LENGTH = column_length(Event, "cover_image_url")
CAMPAIGN_LENGTH = column_length(Campaign, "name")
WEBINAR_ID_LENGTH = column_length(Event, "platform_webinar_id")
# A Text column: a few dozen origins, more than any event is framed by.
EMBED_ORIGINS_LENGTH = 2000
# The organizer's words an event's or a seat's cancellation email carries.
CANCEL_MESSAGE_LENGTH = 2000


@dataclass(frozen=True)
class Span:
    """The whole numbers a field may hold, and what a value outside them is told."""

    low: int
    high: int
    message: str

    def refuses(self, value: Any) -> bool:
        # bool is an int to Python, never to a person.
        if not isinstance(value, int) or isinstance(value, bool):
            return True
        return not self.low <= value <= self.high


DURATION_MINUTES = Span(1, 7 * 24 * 60, "Use a whole number of minutes from 1 to 10080 (a week).")
CAPACITY = Span(
    0, 1_000_000, "Use a whole number of seats from 0 to 1000000; without one, seats are unlimited."
)
# Stripe's largest amount: eight digits in the currency's smallest unit (999999.99 EUR).
PRICE_CENTS = Span(
    0,
    99_999_999,
    "Use a whole number of the currency's smallest unit (such as cents) from 0 to 99999999.",
)
REFUND_HOURS = Span(
    0,
    24 * 365,
    "Refunds until: use a whole number of hours from 0 to 8760 before the start; without "
    "one, refunds last until the start.",
)

LENGTHS = {
    "slug": SLUG_LENGTH,
    "title": TITLE_LENGTH,
    "description": DESCRIPTION_LENGTH,
    "join_url": JOIN_URL_LENGTH,
    "location": LOCATION_LENGTH,
    "recording_url": RECORDING_URL_LENGTH,
    "cta_url": CTA_URL_LENGTH,
    "cta_label": CTA_LABEL_LENGTH,
    "campaign": CAMPAIGN_LENGTH,
    "platform_webinar_id": WEBINAR_ID_LENGTH,
    "embed_origins": EMBED_ORIGINS_LENGTH,
}
SPANS = {
    "duration_minutes": DURATION_MINUTES,
    "capacity": CAPACITY,
    "price_cents": PRICE_CENTS,
    "refund_until_hours_before": REFUND_HOURS,
}


def limit_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """For each of an event's `values` (as the events service takes them) outside its limit,
    the field name and what it is told. A value of None is no value, and keeps no limit."""
    problems: dict[str, str] = {}
    for name, length in LENGTHS.items():
        text = values.get(name)
        if isinstance(text, str) and (problem := fields.length_problem(text, length)):
            problems[name] = problem
    for name, span in SPANS.items():
        if values.get(name) is not None and span.refuses(values[name]):
            problems[name] = span.message
    for name, rule in (("timezone", fields.time_zone), ("currency", fields.currency_code)):
        if name in values:
            try:
                rule(str(values[name] or ""))
            except fields.InvalidValue as exc:
                problems[name] = str(exc)
    return problems
