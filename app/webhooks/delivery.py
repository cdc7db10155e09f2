"""Sending webhook deliveries: the worker claims due rows under a lease, signs each per the
Standard Webhooks specification, posts it, and records the outcome; anything but a 2xx is
retried with exponential back-off until the attempts run out.

A row is claimed by one conditional UPDATE (still pending and due, or its lease expired), so
two workers never hold the same row, and the rows of a worker killed mid-batch go back into
play once their lease runs out. Each outcome is committed on its own right after its post.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from standardwebhooks import Webhook

from app import leasing
from app.db import db, utcnow
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.post import post
from app.webhooks.targets import TargetRefused

log = logging.getLogger(__name__)


def deliver_due(now: datetime | None = None) -> int:
    """The worker's job: send every delivery due at `now`, a batch at a time; how many were
    delivered."""
    delivered = 0
    batch = int(current_app.config["WEBHOOKS_BATCH_SIZE"])
    seen: set[int] = set()
    while True:
        # The pass's moment, or the clock if later: rows the jobs before this one wrote
        # during the pass are due too.
        moment = max(now, utcnow()) if now else utcnow()
        lease, ids = claim(batch, moment)
        # A row retried "now" (a 0 s back-off) is left to the next pass, not spun on here.
        if not ids or seen.issuperset(ids):
            break
        seen.update(ids)
        delivered += send_claimed(lease, moment)
    return delivered


def claim(limit: int, now: datetime) -> tuple[str, list[int]]:
    """Lease up to `limit` due deliveries to this run; the lease and the ids it won."""
    seconds = int(current_app.config["WEBHOOKS_LEASE_SECONDS"])
    return leasing.claim(WebhookDelivery, limit, now, seconds)


def send_claimed(lease: str, now: datetime) -> int:
    """Post every row held under `lease`; how many the receivers accepted."""
    rows = db.session.execute(
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.lease == lease)
        .order_by(WebhookDelivery.id)
    ).all()
    db.session.commit()
    delivered = 0
    timeout = float(current_app.config["WEBHOOKS_TIMEOUT_SECONDS"])
    for delivery, subscription in rows:
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
        # Signed at the moment it leaves (receivers allow five minutes of skew), whatever
        # moment the pass acts for.
        headers = signed_headers(subscription.secret, delivery.message_id, utcnow(), body)
        code: int | None = None
        try:
            answer = post(subscription.url, body.encode(), headers, timeout=timeout)
        except TargetRefused as exc:
            error = exc.fields.get("url", exc.message)
        except OSError as exc:
            error = f"could not reach the receiver: {exc}"
        else:
            code = answer.status
            if answer.ok:
                _finish(delivery.id, lease, now, status="delivered", code=code)
                delivered += 1
                continue
            error = f"answered {answer.status}: {answer.text}"
        _retry(delivery, lease, now, code, error)
    return delivered


def signed_headers(secret: str, message_id: str, moment: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with the subscription's secret."""
    signature = Webhook(secret).sign(message_id, moment, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`th failure: doubling from the base, capped, ±20 %."""
    config = current_app.config
    base = float(config["WEBHOOKS_RETRY_BASE_SECONDS"])
    return leasing.retry_delay(attempts, base, float(config["WEBHOOKS_RETRY_CAP_SECONDS"]))


def _retry(
    delivery: WebhookDelivery, lease: str, now: datetime, code: int | None, error: str
) -> None:
    attempts = delivery.attempts + 1
    if attempts >= int(current_app.config["WEBHOOKS_MAX_ATTEMPTS"]):
        _finish(delivery.id, lease, now, status="failed", code=code, error=error)
        return
    _finish(
        delivery.id,
        lease,
        now,
        status="pending",
        code=code,
        error=error,
        next_attempt_at=now + backoff(attempts),
    )
    log.info("webhook delivery %s failed (%s); will retry", delivery.id, error)


def _finish(
    delivery_id: int,
    lease: str,
    now: datetime,
    *,
    status: str,
    code: int | None,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Record one attempt's outcome, only while our lease holds (a row that went back into
    play is no longer ours), committed at once."""
    values: dict[str, object] = {
        "status": status,
        "attempts": WebhookDelivery.attempts + 1,
        "lease": None,
        "locked_until": None,
        "response_code": code,
        "last_error": error,
    }
    if status == "delivered":
        values["delivered_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease == lease)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
