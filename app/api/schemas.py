"""The API's request and response schemas: they validate the input and, through flask-smorest,
write the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from marshmallow import fields as mf
from marshmallow import validate

from app import fields
from app.auth import staff
from app.events.models import EVENT_STATUSES, Campaign, Event
from app.events.services import SLUG
from app.models import User
from app.payments.records import open_checkout_url
from app.registrations import links
from app.registrations.models import REGISTRATION_STATUSES, Registration
from app.registrations.services import Registrant

LEAD_STATUSES = ("new", "open", "contacted", "qualified", "disqualified", "converted")
# PostgreSQL integer columns hold no more; a bigger number would fail inside the database.
INT32_MAX = 2_147_483_647
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

# NUL cannot be stored by PostgreSQL at all, and no one means to send the other control
# characters in a one-line value; a multi-line one may keep tabs and line breaks.
ONE_LINE_FORBIDDEN = fields.CONTROL_IN_LINE
MULTI_LINE_FORBIDDEN = fields.CONTROL_IN_TEXT

# The same rules as patterns, for the document (ECMA 262 syntax, which Python's re reads too).
_IN_LINE = r"[^\x00-\x1f\x7f]"
_IN_TEXT = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# A character that survives str.strip(): neither a control character nor Unicode white space.
_VISIBLE = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def text_pattern(*, multiline: bool, blank: bool) -> str:
    """The pattern of a text value: no control characters, and (unless `blank` is allowed)
    something besides white space."""
    char = _IN_TEXT if multiline else _IN_LINE
    return f"^{char}*$" if blank else f"^{char}*{_VISIBLE}{char}*$"


COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
CURRENCY_CODES = sorted(currency.alpha_3 for currency in pycountry.currencies)
# An ISO 8601 time whose own year (before conversion to UTC) is one Instant accepts.
YEARS_1970_TO_9000 = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-"


def column_length(model: type, name: str) -> int:
    return int(model.__table__.c[name].type.length)  # type: ignore[attr-defined]


def currency_code(raw: str) -> str:
    """An ISO 4217 currency code, upper case."""
    code = raw.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise fields.InvalidValue("Use a three-letter ISO 4217 currency code, such as USD or EUR.")
    return code


# What email_validator asks beyond RFC 5321's "email" format: a domain with a dot in it, and
# none of the special-use names it refuses (such as .test or .localhost).
_SPECIAL_USE = "|".join(SPECIAL_USE_DOMAIN_NAMES)
EMAIL_DOC = {
    "format": "email",
    "pattern": rf"^[^@]+@(?![^@]*\.({_SPECIAL_USE})\.?$)[^@.]+(\.[^@.]+)+$",
}


def _email(raw: str) -> str:
    return fields.normalize_email(raw)[0]


def _registrant_email(raw: str) -> str:
    # A person registering themselves: disposable domains are refused (as on the landing form).
    return fields.registrant_email(raw)[0]


class Schema(ma.Schema):
    error_messages = {
        "type": "The request body must be a JSON object.",
        "unknown": "This field is not part of this call; remove it.",
    }


class Text(mf.String):
    """A string stored without surrounding spaces or control characters, within its column.

    `rule` is one of the shared rules in `app.fields`: it checks the value and returns it in
    the form we keep (an upper-case country code, a tidied email address).
    """

    def __init__(
        self,
        *,
        max_length: int | None = None,
        multiline: bool = False,
        rule: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        metadata = kwargs.pop("metadata", {})
        if max_length:
            metadata.setdefault("maxLength", max_length)
        super().__init__(metadata=metadata, **kwargs)
        # A blank value is kept as "" only by an optional field without a rule (see below).
        blank = not self.required and rule is None
        if rule is None:
            metadata.setdefault("pattern", text_pattern(multiline=multiline, blank=blank))
        if not blank:
            metadata.setdefault("minLength", 1)
        self.max_length = max_length
        self.forbidden = MULTI_LINE_FORBIDDEN if multiline else ONE_LINE_FORBIDDEN
        self.rule = rule

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if self.max_length and len(raw) > self.max_length:
            # Measured as sent, as the document's maxLength is.
            raise ma.ValidationError(
                f"Use at most {self.max_length} characters (this has {len(raw)})."
            )
        text = raw.strip()
        if not text:
            if self.allow_none and not self.required:
                return None
            if self.required or self.rule is not None:
                # A blank currency or time zone is no more valid than a wrong one.
                raise ma.ValidationError("This field cannot be blank.")
            return ""
        if self.forbidden.search(text):
            raise ma.ValidationError("Remove the control characters (such as NUL) from this value.")
        if self.rule is not None:
            try:
                return self.rule(text)
            except fields.InvalidValue as exc:
                raise ma.ValidationError(str(exc)) from None
        return text


# A web address as the document describes it: a subset of what marshmallow's URL check takes
# (a dotted host name ending in letters, or an IPv4 address), or "" to clear it.
WEB_ADDRESS = (
    r"^(|https?://(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,6}|[0-9]{1,3}(\.[0-9]{1,3}){3})"
    r"(:[0-9]{1,5})?(/|[/?][^\s]+)?)$"
)


class WebAddress(Text):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"format": "uri", "pattern": WEB_ADDRESS}, **kwargs)
        self.address = validate.URL(
            schemes={"http", "https"},
            require_tld=False,
            error="Give a full web address that starts with https:// or http://.",
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return self.address(text) if text else text


class Instant(mf.AwareDateTime):
    """A moment given in ISO 8601 with its UTC offset; kept and shown in UTC."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its UTC offset, "
        "such as 2026-05-04T15:00:00+02:00 or 2026-05-04T13:00:00Z.",
        "invalid_awareness": "Give the UTC offset too (such as +02:00 or Z): "
        "a time without one could be in any time zone.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 1970 <= moment.year <= 9000:
            raise ma.ValidationError("Give a time between the years 1970 and 9000.")
        return moment.astimezone(UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def Whole(minimum: int, maximum: int = INT32_MAX, **kwargs: Any) -> mf.Integer:
    """A whole JSON number between `minimum` and `maximum`."""
    error = f"Use a whole number from {minimum} to {maximum}."
    if maximum == INT32_MAX:
        error = f"Use a whole number of at least {minimum}."
    return mf.Integer(
        strict=True, validate=validate.Range(min=minimum, max=maximum, error=error), **kwargs
    )


def OneOf(choices: tuple[str, ...], **kwargs: Any) -> mf.String:
    return mf.String(
        validate=validate.OneOf(choices, error="Use one of: " + ", ".join(choices) + "."), **kwargs
    )


class Answers(mf.Dict):
    """Answers to an event's own questions: a flat object of short values."""

    MAX_KEYS = 50
    MAX_TEXT = 2000
    default_error_messages = {
        "invalid": "Send the answers as a JSON object of question name to answer.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            keys=mf.String(),
            metadata={
                "description": "Question name to answer: a string, number, boolean, null "
                "or a list of strings."
            },
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        answers = super()._deserialize(value, attr, data, **kwargs)
        if len(answers) > self.MAX_KEYS:
            raise ma.ValidationError(f"Send at most {self.MAX_KEYS} answers.")
        for key, answer in answers.items():
            problem = _answer_problem(key, answer, self.MAX_TEXT)
            if problem:
                raise ma.ValidationError({key: [problem]})
        return answers


def _answer_problem(key: str, answer: Any, max_text: int) -> str | None:
    if not key.strip() or len(key) > 100 or ONE_LINE_FORBIDDEN.search(key):
        return "Name each question with 1 to 100 printable characters."
    values = answer if isinstance(answer, list) else [answer]
    if isinstance(answer, list) and not all(isinstance(item, str) for item in answer):
        return "A list answer may hold only strings."
    for item in values:
        if isinstance(item, float) and not math.isfinite(item):
            return "Use a finite number."
        if isinstance(item, dict | list):
            return "Use a string, number, boolean, null or a list of strings."
        if isinstance(item, str) and (len(item) > max_text or MULTI_LINE_FORBIDDEN.search(item)):
            return f"Use at most {max_text} printable characters."
    return None


# Lists ---------------------------------------------------------------------------------------


class ListArgs(Schema):
    limit = mf.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(
            min=1, max=MAX_LIMIT, error=f"Use a limit from 1 to {MAX_LIMIT} (the default is 50)."
        ),
        metadata={"description": f"Items per page, at most {MAX_LIMIT}."},
    )
    offset = mf.Integer(
        load_default=0,
        validate=validate.Range(
            min=0, max=INT32_MAX, error=f"Use an offset from 0 to {INT32_MAX}."
        ),
        metadata={"description": "How many items to skip; follow `next` rather than count."},
    )


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list envelope around `item`: items, total and the next page's address."""
    return type(
        name,
        (Schema,),
        {
            "items": mf.List(mf.Nested(item), required=True),
            "total": mf.Integer(required=True, metadata={"description": "Items matching in all."}),
            "next": mf.String(
                required=True,
                allow_none=True,
                metadata={"description": "Absolute address of the next page; null on the last."},
            ),
        },
    )


# Events --------------------------------------------------------------------------------------


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


# Registrations -------------------------------------------------------------------------------


def _registration_text(name: str, **kwargs: Any) -> Text:
    return Text(max_length=column_length(Registration, name), **kwargs)


class RegistrationIn(Schema):
    """What a person gives when registering (the landing-page form uses the same names)."""

    email = Text(
        required=True,
        max_length=column_length(Registration, "email"),
        rule=_registrant_email,
        metadata=EMAIL_DOC,
    )
    first_name = _registration_text("first_name", required=True)
    last_name = _registration_text("last_name", allow_none=True)
    company = _registration_text("company", allow_none=True)
    job_title = _registration_text("job_title", allow_none=True)
    country = Text(
        allow_none=True,
        rule=fields.country_code,
        metadata={"description": "ISO 3166-1 alpha-2, such as DE.", "enum": COUNTRY_CODES},
    )
    phone = _registration_text(
        "phone",
        allow_none=True,
        metadata={"description": "With its country code, or local to `country`."},
    )
    answers = Answers()
    utm_source = _registration_text("utm_source", allow_none=True)
    utm_medium = _registration_text("utm_medium", allow_none=True)
    utm_campaign = _registration_text("utm_campaign", allow_none=True)
    consent_marketing = mf.Boolean()

    @ma.validates_schema(skip_on_field_errors=False)
    def phone_reads_as_a_number(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("phone"):
            try:
                fields.phone_number(data["phone"], data.get("country"))
            except fields.InvalidValue as exc:
                raise ma.ValidationError(str(exc), field_name="phone") from None

    @ma.post_load
    def registrant(self, data: dict[str, Any], **kwargs: Any) -> Registrant:
        return Registrant.from_typed(
            {name: data.get(name) for name in Registrant.TYPED},
            answers=data.get("answers") or {},
            utm_source=data.get("utm_source"),
            utm_medium=data.get("utm_medium"),
            utm_campaign=data.get("utm_campaign"),
            consent_marketing=bool(data.get("consent_marketing")),
        )


class RegistrationOut(Schema):
    """A registration as its registrant (or an integration acting for them) sees it."""

    id = mf.Integer(required=True)
    status = mf.String(
        required=True,
        metadata={
            "enum": list(REGISTRATION_STATUSES),
            "description": "`unverified`: the event asks for double opt-in, and the link "
            "emailed to the registrant has not been opened yet.",
        },
    )
    manage_url = mf.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The registrant's own page (status, calendar, cancel). null when a "
            "public caller registers an email that was already registered."
        },
    )
    checkout_url = mf.String(
        required=True,
        allow_none=True,
        metadata={"description": "Where a paid registration is paid; null for free events."},
    )
    created_at = Instant(required=True)


class RegistrationDetail(Schema):
    """A registration as staff see it: what was given, and what came of it."""

    id = mf.Integer(required=True)
    status = mf.String(required=True, metadata={"enum": list(REGISTRATION_STATUSES)})
    manage_url = mf.Function(links.manage_url, required=True, metadata={"type": "string"})
    # The Checkout still open for a held seat; null otherwise.
    checkout_url = mf.Function(
        lambda registration: open_checkout_url(registration),
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    created_at = Instant(required=True)
    email = mf.String(required=True)
    first_name = mf.String(required=True)
    last_name = mf.String(required=True)
    company = mf.String(required=True)
    job_title = mf.String(required=True)
    country = mf.String(required=True, allow_none=True)
    phone = mf.String(required=True, allow_none=True)
    answers = mf.Dict(required=True)
    utm_source = mf.String(required=True, allow_none=True)
    utm_medium = mf.String(required=True, allow_none=True)
    utm_campaign = mf.String(required=True, allow_none=True)
    consent_marketing = mf.Boolean(required=True)


class RegistrationListArgs(ListArgs):
    status = OneOf(REGISTRATION_STATUSES)
    q = Text(
        max_length=200,
        metadata={"description": "Finds registrations whose email, name or company hold it."},
    )


# Leads ---------------------------------------------------------------------------------------


class LeadOut(Schema):
    id = mf.Integer(required=True)
    email = mf.String(required=True)
    first_name = mf.String(required=True)
    last_name = mf.String(required=True)
    company = mf.String(required=True)
    job_title = mf.String(required=True)
    country = mf.String(required=True, allow_none=True)
    owner = mf.String(
        required=True, allow_none=True, metadata={"description": "The owning rep's email."}
    )
    status = mf.String(required=True, metadata={"enum": list(LEAD_STATUSES)})
    score = mf.Integer(required=True)
    events = mf.List(
        mf.String(),
        required=True,
        metadata={"description": "Slugs of the events this lead registered for."},
    )


class LeadListArgs(ListArgs):
    status = OneOf(LEAD_STATUSES)
    q = Text(
        max_length=200,
        metadata={"description": "Finds leads whose email, name or company hold it."},
    )


# Reps ----------------------------------------------------------------------------------------


class Countries(mf.List):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            mf.String(metadata={"enum": COUNTRY_CODES}),
            metadata={"description": "ISO 3166-1 alpha-2 codes."},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        codes: list[str] = []
        for raw in super()._deserialize(value, attr, data, **kwargs):
            try:
                code = fields.country_code(raw)
            except fields.InvalidValue as exc:
                raise ma.ValidationError(f"{raw!r}: {exc}") from None
            if code not in codes:
                codes.append(code)
        return codes


class Segments(mf.List):
    def __init__(self, **kwargs: Any) -> None:
        # Blank segments are refused below, with their own message; the document says so here.
        segment = Text(
            max_length=60,
            metadata={"minLength": 1, "pattern": text_pattern(multiline=False, blank=False)},
        )
        super().__init__(segment, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        segments: list[str] = []
        for segment in super()._deserialize(value, attr, data, **kwargs):
            if not segment:
                raise ma.ValidationError("A segment cannot be blank.")
            if segment not in segments:
                segments.append(segment)
        return segments


class RepIn(Schema):
    email = Text(
        required=True, max_length=column_length(User, "email"), rule=_email, metadata=EMAIL_DOC
    )
    name = Text(required=True, max_length=column_length(User, "name"))
    countries = Countries()
    segments = Segments()
    weight = Whole(
        1,
        staff.MAX_WEIGHT,
        metadata={"description": "Share of round-robin routing; 2 gets twice 1's."},
    )
    capacity = Whole(
        0, allow_none=True, metadata={"description": "Most open follow-ups; null: no limit."}
    )
    active = mf.Boolean(metadata={"description": "Whether routing gives this rep new leads."})


class RepPatch(RepIn):
    """Any subset of a rep's fields."""


class RepOut(Schema):
    id = mf.Integer(required=True)
    email = mf.String(required=True)
    name = mf.String(required=True)
    countries = mf.List(mf.String(), required=True)
    segments = mf.List(mf.String(), required=True)
    weight = mf.Integer(required=True)
    capacity = mf.Integer(required=True, allow_none=True)
    active = mf.Boolean(required=True)


EventPage = page_of(EventOut, "EventPage")
PublicEventPage = page_of(PublicEventOut, "PublicEventPage")
RegistrationPage = page_of(RegistrationDetail, "RegistrationPage")
LeadPage = page_of(LeadOut, "LeadPage")
RepPage = page_of(RepOut, "RepPage")
