"""What every API schema is built from: the base schema, text, web address, time and number
fields that refuse what the database could not store, and the list envelope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from marshmallow import fields as mf
from marshmallow import validate

from app import fields

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


# What email_validator asks beyond RFC 5321's "email" format: a domain with a dot in it, and
# none of the special-use names it refuses (such as .test or .localhost).
_SPECIAL_USE = "|".join(SPECIAL_USE_DOMAIN_NAMES)
EMAIL_DOC = {
    "format": "email",
    "pattern": rf"^[^@]+@(?![^@]*\.({_SPECIAL_USE})\.?$)[^@.]+(\.[^@.]+)+$",
}


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
        # Measured as sent, as the document's maxLength is.
        if self.max_length and (problem := fields.length_problem(raw, self.max_length)):
            raise ma.ValidationError(problem)
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
        metadata = {"format": "uri", "pattern": WEB_ADDRESS, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
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


def Whole(
    minimum: int, maximum: int = INT32_MAX, *, error: str | None = None, **kwargs: Any
) -> mf.Integer:
    """A whole JSON number between `minimum` and `maximum`; `error` is what others are told."""
    if error is None and maximum == INT32_MAX:
        error = f"Use a whole number of at least {minimum}."
    elif error is None:
        error = f"Use a whole number from {minimum} to {maximum}."
    return mf.Integer(
        strict=True, validate=validate.Range(min=minimum, max=maximum, error=error), **kwargs
    )


def OneOf(choices: tuple[str, ...], **kwargs: Any) -> mf.String:
    return mf.String(
        validate=validate.OneOf(choices, error="Use one of: " + ", ".join(choices) + "."), **kwargs
    )


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
