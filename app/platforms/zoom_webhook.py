"""Zoom's webhooks: the signature checked on the raw body, the URL-validation challenge
answered, each delivery stored once, and `webinar.ended` turned into an attendance pull."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.db import db, insert_ignoring_conflict, utcnow, writing
from app.events.models import Event
from app.events.services import mark_ended
from app.platforms.credentials import setting
from app.platforms.models import WebhookReceipt
from app.platforms.pulls import request_pull
from app.platforms.zoom import parse_instant


class BadDelivery(Exception):
    """Not a delivery we can believe (forged, stale, or unsigned): answered 401."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Zoom's `x-zm-signature` for `body`: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str | None, signed: str | None) -> dict[str, Any]:
    """The delivery's JSON, once its signature and timestamp hold; else BadDelivery."""
    secret = setting("ZOOM_WEBHOOK_SECRET_TOKEN")
    if not secret:
        raise BadDelivery("Zoom webhooks are not set up here (no ZOOM_WEBHOOK_SECRET_TOKEN).")
    if not timestamp or not signed:
        raise BadDelivery("The delivery is not signed.")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadDelivery("The delivery's timestamp is not a number.") from None
    if abs(time.time() - sent) > float(current_app.config["ZOOM_WEBHOOK_TOLERANCE_SECONDS"]):
        raise BadDelivery("The delivery's timestamp is too far from now.")
    if not hmac.compare_digest(signature(secret, timestamp, body), signed):
        raise BadDelivery("The delivery's signature does not match.")
    try:
        data = json.loads(body)
    except ValueError:
        raise BadDelivery("The delivery is not JSON.") from None
    if not isinstance(data, dict):
        raise BadDelivery("The delivery is not a JSON object.")
    return data


def challenge_answer(data: dict[str, Any]) -> dict[str, str]:
    """The answer to `endpoint.url_validation`: the plain token and its HMAC, in hex."""
    plain = str((data.get("payload") or {}).get("plainToken") or "")
    secret = setting("ZOOM_WEBHOOK_SECRET_TOKEN") or ""
    encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain, "encryptedToken": encrypted}


def receive(body: bytes, data: dict[str, Any]) -> bool:
    """Store the delivery and act on it, once; False when it was had before (a replay)."""
    kind = str(data.get("event") or "")
    now = utcnow()
    with writing():
        new = insert_ignoring_conflict(
            WebhookReceipt,
            ["platform", "delivery_key"],
            platform="zoom",
            # Zoom sends a retry with the same body: the body names the delivery.
            delivery_key=hashlib.sha256(body).hexdigest(),
            event_type=kind[:100],
            payload=data,
            received_at=now,
        )
        if new and kind == "webinar.ended":
            _ended(data, now)
    return new


def _ended(data: dict[str, Any], now: datetime) -> None:
    found = (data.get("payload") or {}).get("object") or {}
    webinar_id = str(found.get("id") or "")
    if not webinar_id:
        return
    ended_at = parse_instant(found.get("end_time")) or now
    events = db.session.scalars(
        select(Event).where(Event.platform == "zoom", Event.platform_webinar_id == webinar_id)
    )
    for event in events:
        # Speed to lead is measured from this moment (the feedback report).
        mark_ended(event, ended_at)
        request_pull(event, "ended", now, ended_at=ended_at)
