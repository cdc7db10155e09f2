"""The API's follow-up schemas: a follow-up as a rep reads it, the rep's verdict, the list's
filters, and what routing an event answers."""

from __future__ import annotations

from marshmallow import fields as mf

from app.api.schemas.common import Instant, ListArgs, OneOf, Schema, Text, page_of
from app.api.schemas.leads import LeadOut
from app.followup.models import DISQUALIFY_REASONS, FOLLOWUP_STATUSES, PRIORITIES
from app.followup.services import MAX_NOTE, MAX_REASON_NOTE


class FollowUpOut(Schema):
    id = mf.Integer(required=True)
    lead = mf.Nested(LeadOut, required=True)
    event = mf.String(required=True, metadata={"description": "The event's slug."})
    rep = mf.String(
        required=True, allow_none=True, metadata={"description": "The assigned rep's email."}
    )
    status = mf.String(required=True, metadata={"enum": list(FOLLOWUP_STATUSES)})
    priority = mf.String(required=True, metadata={"enum": list(PRIORITIES)})
    due_at = Instant(required=True)
    why = mf.String(
        required=True, metadata={"description": "One sentence: which rule put it with this rep."}
    )
    attended_minutes = mf.Float(required=True, allow_none=True)
    on_demand = mf.Boolean(
        required=True,
        metadata={"description": "The registrant watched the recording on demand (a replay view)."},
    )
    reason = mf.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why it was disqualified.", "enum": list(DISQUALIFY_REASONS)},
    )
    first_contacted_at = Instant(required=True, allow_none=True)


FollowUpPage = page_of(FollowUpOut, "FollowUpPage")


class FollowUpListArgs(ListArgs):
    status = OneOf(
        ("open", "all", *FOLLOWUP_STATUSES[1:]),
        metadata={"description": "Default `open`: open and contacted, still being worked."},
    )
    priority = OneOf(PRIORITIES)
    event = Text(max_length=80, metadata={"description": "Only this event's (its slug)."})


class FollowUpPatch(Schema):
    status = OneOf(FOLLOWUP_STATUSES)
    reason = OneOf(
        tuple(DISQUALIFY_REASONS),
        allow_none=True,
        metadata={"description": "Required with `disqualified`."},
    )
    reason_note = Text(
        allow_none=True,
        max_length=MAX_REASON_NOTE,
        metadata={"description": "The reason in words (required with `other`)."},
    )
    note = Text(multiline=True, allow_none=True, max_length=MAX_NOTE)


class RoutingOut(Schema):
    created = mf.Integer(required=True)
    by_rep = mf.Dict(
        keys=mf.String(),
        values=mf.Integer(),
        required=True,
        metadata={"description": "Follow-ups created, by rep email."},
    )
