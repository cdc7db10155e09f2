"""The API's event schemas: an event as staff create or change it (within the events
service's limits, so the document states them), and as staff and the public read it."""

from __future__ import annotations

from typing import Any

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
    page_of,
)
from app.events import limits
from app.events.models import EVENT_STATUSES, PLATFORM_NAMES
from app.events.services import MAX_SPEAKERS, SLUG, SPEAKER_TEXT_LENGTH
from app.languages import LANGUAGES

CURRENCY_CODES = sorted(currency.alpha_3 for currency in pycountry.currencies)
# An ISO 8601 time whose own year (before conversion to UTC) is one Instant accepts.
YEARS_1970_TO_9000 = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-"


def Within(span: limits.Span, **kwargs: Any) -> mf.Integer:
    """A whole JSON number within one of the events service's spans, refused in its words."""
    return Whole(span.low, span.high, error=span.message, **kwargs)


class SpeakerIn(Schema):
    """One speaker on the landing page."""

    name = Text(required=True, max_length=SPEAKER_TEXT_LENGTH)
    title = Text(allow_none=True, max_length=SPEAKER_TEXT_LENGTH)
    photo_url = Text(
        allow_none=True,
        max_length=limits.COVER_IMAGE_URL_LENGTH,
        metadata={"description": "An https:// address of the speaker's photo.", "format": "uri"},
    )


class SpeakerOut(Schema):
    name = mf.String(required=True)
    title = mf.String(required=True)
    photo_url = mf.String(required=True)


class EventIn(Schema):
    """An event as staff create it; PATCH takes any subset of these fields."""

    slug = Text(
        required=True,
        max_length=limits.SLUG_LENGTH,
        metadata={
            "description": "Lower-case words joined by hyphens; the landing page /e/<slug>.",
            "pattern": SLUG.pattern,
        },
    )
    title = Text(required=True, max_length=limits.TITLE_LENGTH)
    description = Text(
        multiline=True, max_length=limits.DESCRIPTION_LENGTH, metadata={"description": "Markdown."}
    )
    starts_at = Instant(required=True, metadata={"pattern": YEARS_1970_TO_9000})
    duration_minutes = Within(limits.DURATION_MINUTES, required=True)
    timezone = Text(
        required=True,
        rule=fields.time_zone,
        metadata={
            "description": "IANA time zone name, such as Europe/Berlin.",
            "enum": list(fields.time_zone_choices()),
        },
    )
    capacity = Within(
        limits.CAPACITY, allow_none=True, metadata={"description": "null: unlimited seats."}
    )
    waitlist = mf.Boolean()
    price_cents = Within(
        limits.PRICE_CENTS, metadata={"description": "Price in minor units; 0: free."}
    )
    currency = Text(
        rule=fields.currency_code,
        metadata={"description": "ISO 4217 code, such as EUR.", "enum": CURRENCY_CODES},
    )
    refund_until_hours_before = Within(
        limits.REFUND_HOURS,
        allow_none=True,
        metadata={
            "description": "A registrant who cancels is refunded until this many hours before "
            "the start; null: until the start."
        },
    )
    join_url = WebAddress(allow_none=True, max_length=limits.JOIN_URL_LENGTH)
    location = Text(allow_none=True, max_length=limits.LOCATION_LENGTH)
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
        max_length=limits.CAMPAIGN_LENGTH,
        metadata={"description": "Campaign name; created on first use."},
    )
    registration_closes_at = Instant(allow_none=True, metadata={"pattern": YEARS_1970_TO_9000})
    double_opt_in = mf.Boolean(
        metadata={
            "description": "New registrations stay `unverified` until the link in their "
            "verification email is opened (free events only); default false."
        }
    )
    requires_approval = mf.Boolean(
        metadata={
            "description": "New registrations stay `pending_approval` until staff approve or "
            "decline them (free events only); default false."
        }
    )
    approval_holds_seat = mf.Boolean(
        metadata={
            "description": "With `requires_approval`: a registration pending approval holds a "
            "seat (when one is free) while staff decide; default false: it takes one only "
            "when approved."
        }
    )
    show_seats_left = mf.Boolean(
        metadata={"description": "The landing page shows how many seats are left; default true."}
    )
    language = OneOf(
        LANGUAGES,
        metadata={
            "description": "What the landing page, registrants' emails and calendar invites "
            "are written in: en (default), de, fr or es."
        },
    )
    other_languages = mf.List(
        OneOf(LANGUAGES),
        allow_none=True,
        validate=validate.Length(max=len(LANGUAGES)),
        metadata={
            "description": "Languages the event offers besides `language` (en, de, fr, es): "
            "its landing page speaks the one a visitor's browser prefers among them all (or "
            "the one `?lang=` names), and a registrant's emails and invites the one they "
            "registered in. The whole list replaces the old one; default empty."
        },
    )
    platform = OneOf(
        PLATFORM_NAMES,
        allow_none=True,
        metadata={
            "description": "The webinar platform the event runs on; each registration is "
            "added there and gets its own join link. null: none."
        },
    )
    platform_webinar_id = Text(
        allow_none=True,
        max_length=limits.WEBINAR_ID_LENGTH,
        metadata={"description": "The webinar's id on the platform; required with `platform`."},
    )
    embed_origins = Text(
        allow_none=True,
        max_length=limits.EMBED_ORIGINS_LENGTH,
        metadata={
            "description": "Other sites that may frame this event's form (/e/<slug>/embed) "
            "and call the registration API from a browser, besides EMBED_ORIGINS: origins "
            "such as https://www.example.com, separated by commas or spaces."
        },
    )
    recording_url = WebAddress(
        allow_none=True,
        max_length=limits.RECORDING_URL_LENGTH,
        metadata={"description": "Where the recording is watched; the post-event emails link it."},
    )
    post_event_emails = mf.Boolean(
        metadata={
            "description": "After the event, attendees get a thank-you and confirmed no-shows "
            'a "sorry we missed you" email, with the recording link; default true.'
        }
    )
    cta_url = WebAddress(
        allow_none=True,
        max_length=limits.CTA_URL_LENGTH,
        metadata={"description": "The post-event emails' call to action: the link it opens."},
    )
    cta_label = Text(
        allow_none=True,
        max_length=limits.CTA_LABEL_LENGTH,
        metadata={"description": "The call to action's words, such as Book a demo."},
    )
    cover_image_url = Text(
        allow_none=True,
        max_length=limits.COVER_IMAGE_URL_LENGTH,
        metadata={
            "description": "An https:// address of the landing page's cover picture, also its "
            "social preview (Open Graph, Twitter card) and schema.org image.",
            "format": "uri",
        },
    )
    speakers = mf.List(
        mf.Nested(SpeakerIn),
        allow_none=True,
        validate=validate.Length(max=MAX_SPEAKERS),
        metadata={
            "description": "Who speaks, in the order shown; each a `name`, a `title` "
            "and an https:// `photo_url`. The whole list replaces the old one."
        },
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
    language = mf.String(required=True, metadata={"enum": list(LANGUAGES)})
    other_languages = mf.List(
        mf.String(metadata={"enum": list(LANGUAGES)}),
        required=True,
        metadata={"description": "The languages it offers besides `language`."},
    )
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
    requires_approval = mf.Boolean(required=True)
    approval_holds_seat = mf.Boolean(required=True)
    show_seats_left = mf.Boolean(required=True)
    platform = mf.String(required=True, allow_none=True, metadata={"enum": list(PLATFORM_NAMES)})
    platform_webinar_id = mf.String(required=True, allow_none=True)
    embed_origins = mf.String(required=True, allow_none=True)
    recording_url = mf.String(required=True, allow_none=True)
    post_event_emails = mf.Boolean(required=True)
    cta_url = mf.String(required=True, allow_none=True)
    cta_label = mf.String(required=True, allow_none=True)
    cover_image_url = mf.String(required=True, allow_none=True)
    speakers = mf.List(mf.Nested(SpeakerOut), required=True)


class PublicEventOut(EventOut):
    """An event as anyone sees it: everything but the join link, which reaches registrants only
    (on their manage page and in their emails), and the platform's webinar id."""

    class Meta:
        exclude = ("join_url", "platform_webinar_id", "embed_origins")


class EventListArgs(ListArgs):
    status = OneOf(EVENT_STATUSES, metadata={"description": "Staff only: events in this status."})


EventPage = page_of(EventOut, "EventPage")
PublicEventPage = page_of(PublicEventOut, "PublicEventPage")
