"""The API's rep schemas: a sales rep as admins add, change and read one."""

from __future__ import annotations

from typing import Any, cast

import marshmallow as ma
from marshmallow import fields as mf

from app import fields
from app.api.schemas.common import (
    COUNTRY_CODES,
    EMAIL_DOC,
    Schema,
    Text,
    Whole,
    page_of,
    text_pattern,
)
from app.auth import staff
from app.db import column_length
from app.models import User


def _email(raw: str) -> str:
    return fields.normalize_email(raw)[0]


def _strings(items: list[str | None]) -> list[str]:
    # marshmallow's List allows for null items; the inner fields here refuse null, so none are.
    return cast(list[str], items)


# The return types follow marshmallow's List (items typed as possibly null), which they override.
class Countries(mf.List[str]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            mf.String(metadata={"enum": COUNTRY_CODES}),
            metadata={"description": "ISO 3166-1 alpha-2 codes."},
            **kwargs,
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str | None]:
        codes: list[str | None] = []
        for raw in _strings(super()._deserialize(value, attr, data, **kwargs)):
            try:
                code = fields.country_code(raw)
            except fields.InvalidValue as exc:
                raise ma.ValidationError(f"{raw!r}: {exc}") from None
            if code not in codes:
                codes.append(code)
        return codes


class Segments(mf.List[str]):
    def __init__(self, **kwargs: Any) -> None:
        # Blank segments are refused below, with their own message; the document says so here.
        segment = Text(
            max_length=60,
            metadata={"minLength": 1, "pattern": text_pattern(multiline=False, blank=False)},
        )
        super().__init__(segment, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str | None]:
        segments: list[str | None] = []
        for segment in _strings(super()._deserialize(value, attr, data, **kwargs)):
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
    meeting_url = Text(
        allow_none=True,
        max_length=500,
        metadata={
            "description": "Where registrants book time with the rep (http or https); "
            "offered on the thank-you page of registrants the rep is alerted about.",
            # The staff service's own check, so a document-valid link is a saved one.
            "pattern": r"^https?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*$",
        },
    )


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
    meeting_url = mf.String(required=True, allow_none=True)


RepPage = page_of(RepOut, "RepPage")
