"""The API's registration schemas: what a person gives when registering (the landing form's
fields and rules), and a registration as its registrant and as staff read it."""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from marshmallow import fields as mf

from app import fields
from app.api.schemas.common import (
    COUNTRY_CODES,
    EMAIL_DOC,
    MULTI_LINE_FORBIDDEN,
    ONE_LINE_FORBIDDEN,
    Instant,
    ListArgs,
    OneOf,
    Schema,
    Text,
    page_of,
)
from app.db import column_length
from app.languages import LANGUAGES
from app.payments.records import open_checkout_url
from app.registrations import links
from app.registrations.models import REGISTRATION_STATUSES, Registration
from app.registrations.search import SEARCH_LENGTH
from app.registrations.services import Registrant


def _registrant_email(raw: str) -> str:
    # A person registering themselves: disposable domains are refused (as on the landing form).
    return fields.registrant_email(raw)[0]


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
    language = OneOf(
        LANGUAGES,
        metadata={
            "description": "The language the person registers in, when the event offers it "
            "(its `languages`): their emails, calendar invites and manage page are written in "
            "it. Default, and for a language the event does not offer: the event's `language`."
        },
    )

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
            consent_source="api",
            language=data.get("language"),
        )


class RegistrationOut(Schema):
    """A registration as its registrant (or an integration acting for them) sees it."""

    id = mf.Integer(required=True)
    status = mf.String(
        required=True,
        metadata={
            "enum": list(REGISTRATION_STATUSES),
            "description": "`unverified`: the event asks for double opt-in, and the link "
            "emailed to the registrant has not been opened yet. `walk_in`: the event's "
            "attendance report placed this person in the room without a registration; "
            "they hold no seat and are followed up like attendees. `pending_approval`: the event "
            "requires approval, and staff have not decided yet (`declined`: they declined). "
            "`on_demand`: registered through a past event's replay form to watch its "
            "recording; holds no seat.",
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
    utm_term = mf.String(required=True, allow_none=True)
    utm_content = mf.String(required=True, allow_none=True)
    gclid = mf.String(required=True, allow_none=True)
    fbclid = mf.String(required=True, allow_none=True)
    referrer = mf.String(required=True, allow_none=True)
    source_link = mf.Function(
        lambda registration: registration.source_link and registration.source_link.code,
        required=True,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "The code of the source link the registrant came through "
            "(GET /api/v1/events/<slug>/source-links); null for none or a deleted one.",
        },
    )
    consent_marketing = mf.Boolean(required=True)
    language = mf.String(
        required=True,
        metadata={
            "enum": list(LANGUAGES),
            "description": "The language the registrant registered in; their emails, invites "
            "and pages speak it.",
        },
    )


class RegistrationListArgs(ListArgs):
    status = OneOf(REGISTRATION_STATUSES)
    q = Text(
        max_length=SEARCH_LENGTH,
        metadata={"description": "Finds registrations whose email, name or company hold it."},
    )


RegistrationPage = page_of(RegistrationDetail, "RegistrationPage")
