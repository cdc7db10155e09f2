"""`POST /zoom/webhook`: only what Zoom signed is believed (the raw body, a fresh timestamp),
the URL-validation challenge is answered, and each delivery counts once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from sqlalchemy import func, select

from app.db import db
from app.platforms.models import AttendancePull, WebhookReceipt
from tests.builders import make_event
from tests.fake_zoom import WEBHOOK_SECRET, FakeZoom
from tests.zoom_fixtures import WEBINAR_ID, app_config, zoom_fixture

__all__ = ["app_config", "zoom_fixture"]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _linked_event():  # type: ignore[no-untyped-def]
    return make_event(platform="zoom", platform_webinar_id=WEBINAR_ID)


def test_the_url_validation_challenge_is_answered_with_the_tokens_hmac(app, client, zoom: FakeZoom):
    body = json.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    ).encode()
    answer = client.post("/zoom/webhook", data=body, headers=zoom.headers_for(body))

    assert answer.status_code == 200
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256
    ).hexdigest()
    assert answer.json == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_webinar_ended_makes_the_linked_events_pull_due(app, client, zoom: FakeZoom):
    event = _linked_event()
    body, headers = zoom.ended(WEBINAR_ID)

    answer = client.post("/zoom/webhook", data=body, headers=headers)

    assert answer.status_code == 200 and answer.json["duplicate"] is False
    pull = db.session.scalar(select(AttendancePull).where(AttendancePull.event_id == event.id))
    assert pull is not None and pull.status == "pending" and pull.reason == "ended"
    assert _count(WebhookReceipt) == 1


def test_a_forged_signature_changes_nothing(app, client, zoom: FakeZoom):
    _linked_event()
    body, _headers = zoom.ended(WEBINAR_ID)
    forged = zoom.headers_for(body, secret="not-the-secret")

    answer = client.post("/zoom/webhook", data=body, headers=forged)

    assert answer.status_code == 401
    assert _count(WebhookReceipt) == 0 and _count(AttendancePull) == 0


def test_a_body_changed_after_signing_changes_nothing(app, client, zoom: FakeZoom):
    _linked_event()
    body, headers = zoom.ended(WEBINAR_ID)
    tampered = body.replace(WEBINAR_ID.encode(), b"99999999999")

    assert client.post("/zoom/webhook", data=tampered, headers=headers).status_code == 401
    assert _count(WebhookReceipt) == 0 and _count(AttendancePull) == 0


def test_a_stale_signature_changes_nothing(app, client, zoom: FakeZoom):
    _linked_event()
    body, _headers = zoom.ended(WEBINAR_ID)
    stale = zoom.headers_for(body, timestamp=int(time.time()) - 3600)

    assert client.post("/zoom/webhook", data=body, headers=stale).status_code == 401
    unsigned = {"Content-Type": "application/json"}
    assert client.post("/zoom/webhook", data=body, headers=unsigned).status_code == 401
    assert _count(WebhookReceipt) == 0 and _count(AttendancePull) == 0


def test_a_replayed_delivery_changes_nothing(app, client, zoom: FakeZoom):
    event = _linked_event()
    body, headers = zoom.ended(WEBINAR_ID)
    assert client.post("/zoom/webhook", data=body, headers=headers).json["duplicate"] is False
    pull = db.session.scalar(select(AttendancePull).where(AttendancePull.event_id == event.id))
    assert pull is not None
    pull.status = "done"  # the worker pulled it meanwhile
    db.session.commit()

    # The same body again, even freshly signed, is the same delivery.
    answer = client.post("/zoom/webhook", data=body, headers=zoom.headers_for(body))

    assert answer.status_code == 200 and answer.json["duplicate"] is True
    db.session.refresh(pull)
    assert pull.status == "done"
    assert _count(WebhookReceipt) == 1


def test_without_a_secret_token_nothing_is_believed(app, client, zoom: FakeZoom):
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = None
    body, headers = zoom.ended(WEBINAR_ID)

    answer = client.post("/zoom/webhook", data=body, headers=headers)

    assert answer.status_code == 401
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in answer.json["error"]["message"]
    assert _count(WebhookReceipt) == 0
