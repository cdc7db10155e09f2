"""The API's source link schemas: an event's named tracking link as staff make, change and
read it (the source links service checks what is required and how long each value may be)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields as mf

from app.api.schemas.common import Instant, Schema, Text, page_of
from app.db import column_length
from app.registrations import source_links
from app.registrations.models import SourceLink


def _link_text(name: str, **kwargs: Any) -> Text:
    return Text(max_length=column_length(SourceLink, name), **kwargs)


class SourceLinkIn(Schema):
    """A link as staff make it; PATCH takes any subset of these fields."""

    name = _link_text("name", required=True, metadata={"description": "Such as LinkedIn ad."})
    utm_source = _link_text("utm_source", required=True)
    utm_medium = _link_text("utm_medium", required=True)
    utm_campaign = _link_text("utm_campaign", allow_none=True)
    utm_term = _link_text("utm_term", allow_none=True)
    utm_content = _link_text("utm_content", allow_none=True)


class SourceLinkPatch(SourceLinkIn):
    """Any subset of a link's fields; its code never changes."""


class SourceLinkOut(Schema):
    code = mf.String(
        required=True,
        metadata={"description": "Made by the service; the link's name in `?src=` and here."},
    )
    name = mf.String(required=True)
    url = mf.Function(
        source_links.link_url,
        required=True,
        metadata={"type": "string", "description": "The landing page's address with `?src=`."},
    )
    utm_source = mf.String(required=True)
    utm_medium = mf.String(required=True)
    utm_campaign = mf.String(required=True, allow_none=True)
    utm_term = mf.String(required=True, allow_none=True)
    utm_content = mf.String(required=True, allow_none=True)
    visits = mf.Integer(required=True, metadata={"description": "Times the link was opened."})
    created_at = Instant(required=True)


SourceLinkPage = page_of(SourceLinkOut, "SourceLinkPage")
