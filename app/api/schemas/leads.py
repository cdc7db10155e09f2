"""The API's lead schemas: a lead as staff read it, and the lead list's filters."""

from __future__ import annotations

from marshmallow import fields as mf

from app.api.schemas.common import ListArgs, OneOf, Schema, Text, page_of
from app.registrations.search import SEARCH_LENGTH

LEAD_STATUSES = ("new", "open", "contacted", "qualified", "disqualified", "converted")


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
        max_length=SEARCH_LENGTH,
        metadata={"description": "Finds leads whose email, name or company hold it."},
    )


LeadPage = page_of(LeadOut, "LeadPage")
