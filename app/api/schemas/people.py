"""The API's privacy schemas: everything held about a person, and an erasure's report."""

from __future__ import annotations

from marshmallow import fields as mf

from app.api.schemas.common import Schema


def _records(what: str) -> mf.List:
    return mf.List(mf.Dict(), required=True, metadata={"description": what})


class PersonOut(Schema):
    email = mf.String(required=True, metadata={"description": "The address, normalised."})
    lead = mf.Dict(required=True, allow_none=True, metadata={"description": "The lead."})
    registrations = _records(
        "Every registration of the address, with its `answers` and `attendance`."
    )
    consents = _records("Each consent and withdrawal: `action`, `source`, the exact `text`, `at`.")
    followups = _records("Follow-ups of the lead, with the reps' notes and escalations.")
    emails = _records("Every email to the address: `kind`, `subject`, `status`, dates.")
    payments = _records("Payments for the address's seats.")
    webhook_deliveries = _records("Webhook deliveries that told receivers about the person.")


class ErasureOut(Schema):
    erased = mf.Boolean(required=True)
    email_sha256 = mf.String(
        required=True, metadata={"description": "SHA-256 of the normalised address."}
    )
    counts = mf.Dict(
        keys=mf.String(),
        values=mf.Integer(),
        required=True,
        metadata={"description": "Rows erased or anonymised, by kind."},
    )
    erased_at = mf.String(required=True)
    refunds = mf.String(required=True, metadata={"description": "Erasure refunds nothing."})


class ConsentOut(Schema):
    consent_marketing = mf.Boolean(required=True)
    consents = _records("Each consent and withdrawal, oldest first.")
