"""The API's routing-rule schemas: a rule as admins add, change and read it (the rules service
checks each condition and the reps, as it does for the console)."""

from __future__ import annotations

from marshmallow import fields as mf

from app.api.schemas.common import EMAIL_DOC, Schema, Text, Whole, page_of
from app.followup.rules import CONDITIONS, MAX_WEIGHT, REGIONS

_CONDITION_DOCS = {
    "countries": "ISO 3166-1 alpha-2 codes.",
    "regions": "Sales regions: " + ", ".join(REGIONS) + ".",
    "segments": "A lead's segment: its `segment` answer, or smb / mid-market / enterprise from "
    "its company size (a `company_size` answer, or a question that maps to either).",
    "email_domains": "Domains such as example.com (subdomains match too).",
    "campaigns": "The event's campaign or the registration's utm_campaign.",
    "title_keywords": "Whole words in the job title.",
}


def _condition(name: str) -> mf.List:
    return mf.List(
        Text(required=True, max_length=253), metadata={"description": _CONDITION_DOCS[name]}
    )


Conditions = Schema.from_dict(
    {name: _condition(name) for name in CONDITIONS}, name="RuleConditions"
)


class PoolMemberIn(Schema):
    rep = Text(
        required=True, max_length=254, metadata={"description": "The rep's email."} | EMAIL_DOC
    )
    weight = Whole(1, MAX_WEIGHT, load_default=1)


class RuleIn(Schema):
    """A routing rule as admins add it; PATCH takes any subset of these fields."""

    name = Text(required=True, max_length=120)
    active = mf.Boolean()
    alert_on_registration = mf.Boolean(
        metadata={
            "description": "Email the rule's rep (a pool's heaviest member) the moment a "
            "matching lead registers, not only after the event. Default false."
        }
    )
    position = Whole(
        1, metadata={"description": "1 is tried first; a new rule goes last unless given."}
    )
    conditions = mf.Nested(
        Conditions,
        metadata={"description": "Every condition given must match (any of its values)."},
    )
    rep = Text(
        allow_none=True,
        max_length=254,
        metadata={"description": "One rep's email; or give `pool`."},
    )
    pool = mf.List(
        mf.Nested(PoolMemberIn),
        metadata={"description": "A weighted round-robin pool of reps; or give `rep`."},
    )


class RulePatch(RuleIn):
    """Any subset of a rule's fields."""


class PoolMemberOut(Schema):
    rep = mf.String(required=True)
    weight = mf.Integer(required=True)


class RuleOut(Schema):
    id = mf.Integer(required=True)
    name = mf.String(required=True)
    active = mf.Boolean(required=True)
    alert_on_registration = mf.Boolean(required=True)
    position = mf.Integer(required=True)
    conditions = mf.Nested(Conditions, required=True)
    rep = mf.String(required=True, allow_none=True)
    pool = mf.List(mf.Nested(PoolMemberOut), required=True)


RulePage = page_of(RuleOut, "RulePage")
