"""The API's webhook schemas: a subscription as admins add and read one, and its deliveries."""

from __future__ import annotations

from marshmallow import fields as mf
from marshmallow import validate

from app.api.schemas.common import Instant, Schema, WebAddress, page_of
from app.db import column_length
from app.webhooks.models import EVENT_TYPES, WebhookSubscription

_EVENTS_DOC = {"description": "The event types to receive: " + ", ".join(EVENT_TYPES) + "."}


class WebhookIn(Schema):
    url = WebAddress(
        required=True,
        max_length=column_length(WebhookSubscription, "url"),
        validate=validate.Length(min=1, error="Give the receiver's address."),
    )
    events = mf.List(
        mf.String(validate=validate.OneOf(EVENT_TYPES, error="Use one of: {choices}.")),
        required=True,
        validate=validate.Length(min=1, error="Give at least one event type."),
        metadata=_EVENTS_DOC,
    )


class WebhookOut(Schema):
    id = mf.Integer(required=True)
    url = mf.String(required=True)
    events = mf.List(mf.String(), required=True, metadata=_EVENTS_DOC)
    active = mf.Boolean(
        required=True,
        metadata={"description": "False while paused: nothing is sent; see `paused_reason`."},
    )
    created_at = Instant(required=True)
    owner_id = mf.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The staff user who added it, emailed if it is paused."},
    )
    paused_at = Instant(required=True, allow_none=True)
    paused_reason = mf.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why it is paused (410 Gone, a receiver that kept failing, …)."},
    )


class WebhookChange(Schema):
    active = mf.Boolean(
        required=True,
        metadata={
            "description": "true resumes a paused subscription and sends what is still "
            "pending; false pauses it."
        },
    )


class WebhookCreated(WebhookOut):
    secret = mf.String(
        required=True,
        metadata={
            "description": "The signing secret (`whsec_…`); shown only in this answer, keep it."
        },
    )


class DeliveryOut(Schema):
    id = mf.Integer(required=True)
    webhook_id = mf.String(
        required=True,
        attribute="message_id",
        metadata={"description": "The `webhook-id` header, the same on every attempt."},
    )
    type = mf.String(required=True, attribute="event_type")
    status = mf.String(
        required=True,
        metadata={"enum": ["pending", "sending", "delivered", "failed"]},
    )
    attempts = mf.Integer(required=True)
    response_code = mf.Integer(
        required=True, allow_none=True, metadata={"description": "The receiver's last status."}
    )
    last_error = mf.String(required=True, allow_none=True)
    payload = mf.Dict(required=True, metadata={"description": "The body as sent."})
    created_at = Instant(required=True)
    next_attempt_at = Instant(required=True)
    delivered_at = Instant(required=True, allow_none=True)


WebhookPage = page_of(WebhookOut, "WebhookPage")
DeliveryPage = page_of(DeliveryOut, "DeliveryPage")
