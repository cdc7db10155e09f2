"""The API's event schemas: an event as staff create or change it, and as staff and the
public read it."""

from __future__ import annotations

import pycountry
from marshmallow import fields as mf
from marshmallow import validate

from app import fields
from app.api.schemas.common import (
    Instant,
    ListArgs,
    OneOf,
    Schema,
    Text,
    WebAddress,
    Whole,
    column_length,
    page_of,
)
from app.events.models import EVENT_STATUSES, Campaign, Event
from app.events.services import SLUG

CURRENCY_CODES = sorted(currency.alpha_3 for currency in pycountry.currencies)
# An ISO 8601 time whose own year (before conversion to UTC) is one Instant accepts.
YEARS_1970_TO_9000 = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-"


def currency_code(raw: str) -> str:
    """An ISO 4217 currency code, upper case."""
    code = raw.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise fields.InvalidValue("Use a three-letter ISO 4217 currency code, such as USD or EUR.")
    return code


class EventIn(Schema):
    """An event as staff create it; PATCH takes any subset of these fields."""

    slug = Text(
        required=True,
        max_length=column_length(Event, "slug"),
        metadata={
            "description": "Lower-case words joined by hyphens; the landing page /e/<slug>.",
            "pattern": SLUG.pattern,
        },
    )
    title = Text(required=True, max_length=column_length(Event, "title"))
    description = Text(multiline=True, max_length=100_000, metadata={"description": "Markdown."})
    starts_at = Instant(required=True, metadata={"pattern": YEARS_1970_TO_9000})
    duration_minutes = Whole(1, 60 * 24 * 31, required=True)
    timezone = Text(
        required=True,
        rule=fields.time_zone,
        metadata={
            "description": "IANA time zone name, such as Europe/Berlin.",
            "enum": list(fields.time_zone_choices()),
        },
    )
    capacity = Whole(0, allow_none=True, metadata={"description": "null: unlimited seats."})
    waitlist = mf.Boolean()
    price_cents = Whole(0, metadata={"description": "Price in minor units; 0: free."})
    currency = Text(
        rule=currency_code,
        metadata={"description": "ISO 4217 code, such as EUR.", "enum": CURRENCY_CODES},
    )
    refund_until_hours_before = Whole(
        0,
        24 * 365,
        allow_none=True,
        metadata={
            "description": "A registrant who cancels is refunded until this many hours before "
            "the start; null: until the start."
        },
    )
    join_url = WebAddress(allow_none=True, max_length=column_length(Event, "join_url"))
    location = Text(allow_none=True, max_length=column_length(Event, "location"))
    status = mf.String(
        validate=validate.OneOf(
            ("draft", "published"),
            error="Use draft or published; cancel an event with its cancel action "
            "(POST /api/v1/events/<slug>/cancel), which tells every registrant.",
        ),
        metadata={"description": "`cancelled` comes only from the cancel call."},
    )
    campaign = Text(
        allow_none=True,
        max_length=column_length(Campaign, "name"),
        metadata={"description": "Campaign name; created on first use."},
    )
    registration_closes_at = Instant(allow_none=True, metadata={"pattern": YEARS_1970_TO_9000})
    double_opt_in = mf.Boolean(
        metadata={
            "description": "New registrations stay `unverified` until the link in their "
            "verification email is opened (free events only); default false."
        }
    )


class EventPatch(EventIn):
    """Any subset of an event's fields; `status: cancelled` goes through the cancel call."""


class EventOut(Schema):
    slug = mf.String(required=True)
    title = mf.String(required=True)
    description = mf.String(required=True)
    starts_at = Instant(required=True)
    duration_minutes = mf.Integer(required=True)
    timezone = mf.String(required=True)
    capacity = mf.Integer(required=True, allow_none=True)
    waitlist = mf.Boolean(required=True)
    price_cents = mf.Integer(required=True)
    currency = mf.String(required=True)
    refund_until_hours_before = mf.Integer(required=True, allow_none=True)
    join_url = mf.String(required=True, allow_none=True)
    location = mf.String(required=True, allow_none=True)
    status = mf.String(required=True, metadata={"enum": list(EVENT_STATUSES)})
    campaign = mf.Function(
        lambda event: event.campaign.name if event.campaign else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    registration_closes_at = Instant(required=True, allow_none=True)
    double_opt_in = mf.Boolean(required=True)


class PublicEventOut(EventOut):
    """An event as anyone sees it: everything but the join link, which reaches registrants only
    (on their manage page and in their emails)."""

    class Meta:
        exclude = ("join_url",)


class EventListArgs(ListArgs):
    status = OneOf(EVENT_STATUSES, metadata={"description": "Staff only: events in this status."})


EventPage = page_of(EventOut, "EventPage")
PublicEventPage = page_of(PublicEventOut, "PublicEventPage")
