"""The console's event forms: create and edit an event (wall-clock times in the event's zone,
prices in whole units), and confirm a cancellation.

The limits are the events service's (`app.events.limits`), told in the same words as the API
tells them; the service checks the rest, and its messages are shown next to the same fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are for 3.2
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional
from wtforms.validators import ValidationError as Invalid
from wtforms.widgets import CheckboxInput, ListWidget

from app import fields
from app.admin.forms import at_most, checked_by, one_line, plain_text
from app.admin.zones import zone_choices
from app.events import limits
from app.events.models import Event
from app.languages import DEFAULT as DEFAULT_LANGUAGE
from app.languages import LANGUAGE_NAMES
from app.payments.display import ZERO_DECIMAL, major_units
from app.platforms.registry import PLATFORMS

WALL_CLOCK = "%Y-%m-%dT%H:%M"
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "NZD", "SGD", "JPY")


def within(span: limits.Span) -> NumberRange:
    return NumberRange(span.low, span.high, span.message)


def web_address(form: FlaskForm, field: Any) -> None:
    value = (field.data or "").strip()
    if value and not value.lower().startswith(("https://", "http://")):
        raise Invalid("Use a full web address starting with https://.")
    if value and (" " in value or len(value.split("://", 1)[1]) < 3):
        raise Invalid("This does not look like a web address.")


def wall_clock_to_utc(local: datetime, zone_name: str) -> datetime:
    """The UTC instant of a wall-clock time in `zone_name`.

    A time the clocks skip (spring forward) is refused; a time they pass twice (fall back)
    means its first occurrence.
    """
    zone = ZoneInfo(zone_name)
    naive = local.replace(tzinfo=None, second=0, microsecond=0)
    instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        raise fields.InvalidValue(
            f"{naive:%H:%M} does not exist on {naive:%-d %B %Y} in {zone_name}: the clocks "
            "go forward then. Choose a time outside that gap."
        )
    return instant


def utc_to_wall_clock(instant: datetime, zone_name: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


# A few dozen speakers' lines; the events service checks each speaker.
SPEAKERS_TEXT_LENGTH = 20_000


class EventForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the event a title."),
            at_most(limits.TITLE_LENGTH),
            one_line,
        ],
    )
    slug = StringField(
        "Web address",
        validators=[Optional(), at_most(limits.SLUG_LENGTH), one_line],
    )
    description = TextAreaField(
        "Description",
        validators=[Optional(), at_most(limits.DESCRIPTION_LENGTH), plain_text],
        render_kw={"rows": 10},
    )
    timezone = SelectField(
        "Time zone",
        validators=[DataRequired("Choose the event's time zone."), checked_by(fields.time_zone)],
        validate_choice=False,
    )
    language = SelectField(
        "Language of its pages, emails and invites",
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        default=DEFAULT_LANGUAGE,
        validators=[DataRequired("Choose the language registrants read.")],
    )
    other_languages = SelectMultipleField(
        "Also offered in",
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    starts_at = DateTimeLocalField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Starts at (local time in that zone)",
        format=[WALL_CLOCK, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired("Enter the date and time the event starts.")],
        invalid_value_message="Enter a date and time, such as 2026-05-14 16:00.",
    )
    duration_minutes = IntegerField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Duration (minutes)",
        validators=[
            InputRequired("Enter the duration in minutes."),
            within(limits.DURATION_MINUTES),
        ],
        invalid_value_message="Enter the duration as a whole number of minutes.",
    )
    capacity = IntegerField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Capacity",
        validators=[Optional(), within(limits.CAPACITY)],
        invalid_value_message="Enter the number of seats, or leave it empty for no limit.",
    )
    waitlist = BooleanField("Keep a waitlist when the event is full")
    double_opt_in = BooleanField("Ask registrants to confirm their email address (double opt-in)")
    requires_approval = BooleanField("Approve each registration before it gets a seat")
    approval_holds_seat = BooleanField("Hold a seat for registrations waiting for approval")
    show_seats_left = BooleanField("Show how many seats are left on the landing page", default=True)
    price = DecimalField(  # type: ignore[call-overload]  # 3.2 stubs lack invalid_value_message
        "Price",
        places=2,
        validators=[Optional()],
        invalid_value_message="Enter a price such as 49.00, or leave it empty for free.",
    )
    currency = SelectField("Currency", validate_choice=False)
    refund_until_hours_before = IntegerField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Refunds until (hours before the start)",
        validators=[Optional(), within(limits.REFUND_HOURS)],
        invalid_value_message="Refunds until: enter a whole number of hours, or leave it empty.",
    )
    join_url = URLField(
        "Join link (online events)",
        validators=[Optional(), at_most(limits.JOIN_URL_LENGTH), one_line, web_address],
    )
    location = StringField(
        "Location (in-person events)",
        validators=[Optional(), at_most(limits.LOCATION_LENGTH), one_line],
    )
    platform = SelectField("Webinar platform", validators=[Optional()])
    platform_webinar_id = StringField(
        "Webinar id on the platform",
        validators=[Optional(), at_most(limits.WEBINAR_ID_LENGTH), one_line],
    )
    embed_origins = TextAreaField(
        "Sites that may embed the form",
        validators=[Optional(), at_most(limits.EMBED_ORIGINS_LENGTH)],
    )
    recording_url = URLField(
        "Recording link",
        validators=[Optional(), at_most(limits.RECORDING_URL_LENGTH), one_line, web_address],
    )
    post_event_emails = BooleanField("Email attendees and no-shows after the event", default=True)
    cta_url = URLField(
        "Call to action link",
        validators=[Optional(), at_most(limits.CTA_URL_LENGTH), one_line, web_address],
    )
    cta_label = StringField(
        "Call to action words",
        validators=[Optional(), at_most(limits.CTA_LABEL_LENGTH), one_line],
    )
    cover_image_url = StringField(
        "Cover image address",
        validators=[Optional(), at_most(limits.COVER_IMAGE_URL_LENGTH), one_line],
    )
    speakers = TextAreaField("Speakers", validators=[Optional(), at_most(SPEAKERS_TEXT_LENGTH)])
    campaign = StringField(
        "Campaign",
        validators=[Optional(), at_most(limits.CAMPAIGN_LENGTH), one_line],
        render_kw={"list": "campaign-names", "autocomplete": "off"},
    )
    registration_closes_at = DateTimeLocalField(  # type: ignore[call-arg]  # 3.2 stubs lack invalid_value_message
        "Registration closes at (optional, same zone)",
        format=[WALL_CLOCK, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        invalid_value_message="Enter a date and time, such as 2026-05-14 12:00, or leave empty.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(self.timezone.data)
        self.platform.choices = [("", "None"), *PLATFORMS.items()]
        currencies = list(CURRENCIES)
        if self.currency.data and self.currency.data not in currencies:
            currencies.append(self.currency.data)
        self.currency.choices = [(code, code) for code in currencies]

    @classmethod
    def for_event(cls, event: Event, **kwargs: Any) -> EventForm:
        closes = event.registration_closes_at
        price = major_units(event.price_cents, event.currency) if event.price_cents else None
        return cls(
            formdata=None,
            data={
                "title": event.title,
                "slug": event.slug,
                "description": event.description,
                "timezone": event.timezone,
                "language": event.language,
                "other_languages": list(event.languages[1:]),
                "starts_at": utc_to_wall_clock(event.starts_at, event.timezone),
                "duration_minutes": event.duration_minutes,
                "capacity": event.capacity,
                "waitlist": event.waitlist,
                "double_opt_in": event.double_opt_in,
                "requires_approval": event.requires_approval,
                "approval_holds_seat": event.approval_holds_seat,
                "show_seats_left": event.show_seats_left,
                "price": price,
                "currency": event.currency,
                "refund_until_hours_before": event.refund_until_hours_before,
                "join_url": event.join_url,
                "location": event.location,
                "platform": event.platform or "",
                "platform_webinar_id": event.platform_webinar_id or "",
                "embed_origins": event.embed_origins or "",
                "recording_url": event.recording_url or "",
                "post_event_emails": event.post_event_emails,
                "cta_url": event.cta_url or "",
                "cta_label": event.cta_label or "",
                "cover_image_url": event.cover_image_url or "",
                "speakers": speaker_lines(event.speakers),
                "campaign": event.campaign.name if event.campaign else "",
                "registration_closes_at": closes and utc_to_wall_clock(closes, event.timezone),
            },
            **kwargs,
        )

    def validate_currency(self, field: Any) -> None:
        try:
            fields.currency_code(field.data or "")
        except fields.InvalidValue as exc:
            raise Invalid(str(exc)) from None

    def validate_price(self, field: Any) -> None:
        price = field.data
        if price is None:
            return
        # The limit is the service's, in the currency's smallest unit (cents); said in whole units.
        currency = (self.currency.data or "").strip().upper()
        most = limits.PRICE_CENTS.high
        if not price.is_finite() or price < 0 or cents_of(price, currency) > most:
            highest = major_units(most, currency)
            raise Invalid(f"Enter a price from 0 to {highest}, or leave it empty for free.")
        if (self.currency.data or "").upper() in ZERO_DECIMAL and price != price.to_integral():
            raise Invalid(f"{self.currency.data} has no cents; use a whole amount.")

    def validate_starts_at(self, field: Any) -> None:
        self._instant(field)

    def validate_registration_closes_at(self, field: Any) -> None:
        self._instant(field)

    def _instant(self, field: Any) -> datetime | None:
        if field.data is None or self.timezone.errors or not self.timezone.data:
            return None
        try:
            return wall_clock_to_utc(field.data, self.timezone.data)
        except fields.InvalidValue as exc:
            raise Invalid(str(exc)) from None

    def values(self) -> dict[str, Any]:
        """The validated form as the events service's input."""
        zone = self.timezone.data
        starts = self.starts_at.data
        if starts is None:
            raise ValueError("values() reads a validated form, and it requires starts_at")
        closes = self.registration_closes_at.data
        currency = (self.currency.data or "USD").strip().upper()
        language = self.language.data or DEFAULT_LANGUAGE
        return {
            "title": (self.title.data or "").strip(),
            "slug": (self.slug.data or "").strip().lower(),
            "description": (self.description.data or "").replace("\r\n", "\n"),
            "timezone": zone,
            "language": language,
            # The main language is offered anyway; ticking it too changes nothing.
            "other_languages": [
                code for code in self.other_languages.data or [] if code != language
            ],
            "starts_at": wall_clock_to_utc(starts, zone),
            "duration_minutes": self.duration_minutes.data,
            "capacity": self.capacity.data,
            "waitlist": bool(self.waitlist.data),
            "double_opt_in": bool(self.double_opt_in.data),
            "requires_approval": bool(self.requires_approval.data),
            "approval_holds_seat": bool(self.approval_holds_seat.data),
            "show_seats_left": bool(self.show_seats_left.data),
            "price_cents": cents_of(self.price.data, currency),
            "currency": currency,
            "refund_until_hours_before": self.refund_until_hours_before.data,
            "join_url": (self.join_url.data or "").strip() or None,
            "location": (self.location.data or "").strip() or None,
            "platform": self.platform.data or None,
            "platform_webinar_id": (self.platform_webinar_id.data or "").strip() or None,
            "embed_origins": (self.embed_origins.data or "").strip() or None,
            "recording_url": (self.recording_url.data or "").strip() or None,
            "post_event_emails": bool(self.post_event_emails.data),
            "cta_url": (self.cta_url.data or "").strip() or None,
            "cta_label": (self.cta_label.data or "").strip() or None,
            "cover_image_url": (self.cover_image_url.data or "").strip() or None,
            "speakers": speakers_of(self.speakers.data),
            "campaign": (self.campaign.data or "").strip() or None,
            "registration_closes_at": closes and wall_clock_to_utc(closes, zone),
        }


def speaker_lines(speakers: list[dict[str, str]] | None) -> str:
    """The speakers as the form's box shows them: "Name | Title | photo address" a line."""
    return "\n".join(
        " | ".join(
            part for part in (s.get("name", ""), s.get("title", ""), s.get("photo_url", ""))
        ).rstrip(" |")
        for s in speakers or []
    )


def speakers_of(text: str | None) -> list[dict[str, Any]]:
    """The box's lines as speakers; a line with more than three parts keeps them, so the
    service refuses it by name rather than losing a part silently."""
    speakers: list[dict[str, Any]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        speaker: dict[str, Any] = dict(zip(("name", "title", "photo_url"), parts, strict=False))
        if len(parts) > 3:
            speaker["extra"] = " | ".join(parts[3:])
        speakers.append(speaker)
    return speakers


def cents_of(price: Decimal | None, currency: str) -> int:
    if not price:
        return 0
    return int(price if currency in ZERO_DECIMAL else (price * 100).to_integral_value())


class CancelEventForm(FlaskForm):
    confirm = BooleanField(
        "Yes, cancel this event and tell every registrant",
        validators=[DataRequired("Tick the box to confirm the cancellation.")],
    )
    message = TextAreaField(
        "A message for the registrants (optional)",
        validators=[Optional(), at_most(limits.CANCEL_MESSAGE_LENGTH), plain_text],
        render_kw={"rows": 4},
    )
