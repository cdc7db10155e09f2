"""The API's personal link schemas: a list of emails in, each person's personal link out."""

from __future__ import annotations

from marshmallow import fields as mf
from marshmallow import validate

from app.api.schemas.common import EMAIL_DOC, Schema, Text
from app.registrations.invitation_lists import MAX_PEOPLE

API_MAX_EMAILS = 1000


class PersonalLinksIn(Schema):
    emails = mf.List(
        Text(required=True, max_length=254, metadata=EMAIL_DOC),
        required=True,
        validate=validate.Length(
            min=1,
            max=min(API_MAX_EMAILS, MAX_PEOPLE),
            error=f"Send from 1 to {API_MAX_EMAILS} emails; send more in several calls.",
        ),
    )


class PersonalLinkOut(Schema):
    email = mf.String(required=True)
    first_name = mf.String(required=True)
    last_name = mf.String(required=True)
    personal_link = mf.String(
        required=True,
        metadata={
            "description": "The event's landing page with `?p=`: the form filled in with what "
            "the lead gave before, the questions they answered skipped. One token per lead, "
            "the same on every event's page."
        },
    )
    new_lead = mf.Boolean(
        required=True, metadata={"description": "True when this call made the email a lead."}
    )


class PersonalLinksOut(Schema):
    items = mf.List(mf.Nested(PersonalLinkOut), required=True)
    total = mf.Integer(required=True)
    new_leads = mf.Integer(required=True)
