"""Sending webhook deliveries: the worker claims due rows under a lease, signs each per the
Standard Webhooks specification, posts it, and records the outcome; anything but a 2xx is
retried with exponential back-off (or when a throttling receiver's `Retry-After` asks) until
the attempts run out. A receiver that keeps failing has its subscription paused (`pausing`).

A row is claimed by one conditional UPDATE (still pending and due, or its lease expired), so
two workers never hold the same row, and the rows of a worker killed mid-batch go back into
play once their lease runs out. Each outcome is committed on its own right after its post,
retried through a database blip, and a batch that fails gives back its unsent rows at once
(app.leasing).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from flask import current_app
from sqlalchemy import ColumnElement, select, update
from standardwebhooks import Webhook

from app import leasing, metrics, request_ids
from app.db import db, utcnow
from app.webhooks import pausing
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.post import Answer, post
from app.webhooks.targets import TargetRefused

log = logging.getLogger(__name__)

# Answers that mean "not now" (Standard Webhooks: throttle): their `Retry-After` is honoured.
THROTTLED = frozenset({429, 502, 503, 504})


def deliver_due(now: datetime | None = None) -> int:
    """The worker's job: send every delivery due at `now`, a batch at a time; how many were
    delivered."""
    config = current_app.config
    return leasing.drain(
        WebhookDelivery,
        int(config["WEBHOOKS_BATCH_SIZE"]),
        int(config["WEBHOOKS_LEASE_SECONDS"]),
        now or utcnow(),
        send_claimed,
        among=_of_active_subscriptions(),
    )


def claim(limit: int, now: datetime) -> tuple[str, list[int]]:
    """Lease up to `limit` due deliveries of active subscriptions to this run; the lease and
    the ids it won (a paused subscription's deliveries wait for it to be resumed)."""
    seconds = int(current_app.config["WEBHOOKS_LEASE_SECONDS"])
    return leasing.claim(WebhookDelivery, limit, now, seconds, among=_of_active_subscriptions())


def _of_active_subscriptions() -> ColumnElement[bool]:
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
    return WebhookDelivery.subscription_id.in_(active)


def send_claimed(lease: str, now: datetime) -> int:
    """Post every row held under `lease`; how many the receivers accepted. A row whose
    subscription is paused meanwhile (by an earlier row of this batch) is put back unsent."""
    rows = db.session.execute(
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.lease == lease)
        .order_by(WebhookDelivery.id)
    ).all()
    db.session.commit()
    delivered = 0
    paused = {subscription.id for _, subscription in rows if not subscription.active}
    for delivery, subscription in rows:
        if subscription.id in paused:
            leasing.persist(_put_back, delivery.id, lease, what="a webhook put back")
        else:
            with request_ids.handling(delivery.request_id):
                log.info(
                    "webhook delivery %s (%s) queued by request %s: posting",
                    delivery.id,
                    delivery.event_type,
                    delivery.request_id or "-",
                )
                outcome = _send(delivery, subscription, lease, now)
            delivered += outcome == "delivered"
            if outcome == "paused":
                paused.add(subscription.id)
        db.session.commit()
    return delivered


def _send(
    delivery: WebhookDelivery, subscription: WebhookSubscription, lease: str, now: datetime
) -> str:
    """One attempt and its outcome, in the session (the caller commits): "delivered",
    "failed", or "paused" when this failure paused the subscription."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    delivery_id, subscription_id = delivery.id, subscription.id
    # Signed at the moment it leaves (receivers allow five minutes of skew), whatever moment
    # the pass acts for.
    headers = signed_headers(subscription.secret, delivery.message_id, utcnow(), body)
    answer: Answer | None = None
    timeout = float(current_app.config["WEBHOOKS_TIMEOUT_SECONDS"])
    try:
        answer = post(subscription.url, body.encode(), headers, timeout=timeout)
    except TargetRefused as exc:
        error = exc.fields.get("url", exc.message)
    except OSError as exc:
        error = f"could not reach the receiver: {exc}"
    else:
        if answer.ok:
            code = answer.status

            def delivered() -> str:
                _finish(delivery_id, lease, now, status="delivered", code=code)
                pausing.note_success(subscription_id)
                return "delivered"

            # Its own short transaction right after the receiver took it, through a blip.
            return leasing.persist(delivered, what="a webhook delivery")
        error = f"answered {answer.status}: {answer.text}"

    def failed() -> str:
        paused = _failed(delivery, subscription_id, lease, now, answer, error)
        return "paused" if paused else "failed"

    return leasing.persist(failed, what="a webhook delivery")


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


def next_attempt(answer: Answer | None, attempts: int, now: datetime) -> datetime:
    """When to try again after the `attempts`th failure: when a throttling receiver's
    `Retry-After` asks (capped like the back-off), else after the back-off."""
    if answer is not None and answer.status in THROTTLED and answer.retry_after:
        asked = retry_after(answer.retry_after, now)
        if asked is not None:
            cap = timedelta(seconds=float(current_app.config["WEBHOOKS_RETRY_CAP_SECONDS"]))
            return now + min(asked, cap)
    return now + backoff(attempts)


def retry_after(value: str, now: datetime) -> timedelta | None:
    """A `Retry-After` value (RFC 9110: seconds, or an HTTP date) as a wait from `now`; None
    when it is neither."""
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment - now, timedelta(0))


def _failed(
    delivery: WebhookDelivery,
    subscription_id: int,
    lease: str,
    now: datetime,
    answer: Answer | None,
    error: str,
) -> bool:
    """Record a failed attempt: retried later or given up, counted in the receiver's failure
    streak, and the subscription paused when the rules say so (see `pausing`); whether it
    paused the subscription."""
    metrics.WEBHOOK_DELIVERY_FAILURES.inc()
    attempts = delivery.attempts + 1
    code = answer.status if answer is not None else None
    gave_up = attempts >= int(current_app.config["WEBHOOKS_MAX_ATTEMPTS"])
    if gave_up:
        _finish(delivery.id, lease, now, status="failed", code=code, error=error)
    else:
        retry_at = next_attempt(answer, attempts, now)
        _finish(
            delivery.id,
            lease,
            now,
            status="pending",
            code=code,
            error=error,
            next_attempt_at=retry_at,
        )
        log.info("webhook delivery %s failed (%s); will retry", delivery.id, error)
    streak = pausing.note_failure(subscription_id, now)
    if code == 410:
        reason: str | None = pausing.GONE
    elif gave_up:
        reason = f"A delivery failed all of its {attempts} attempts and was given up."
    else:
        reason = streak
    if reason is None:
        return False
    if pausing.pause(subscription_id, reason, now, last_error=error):
        log.warning("webhook subscription %s paused: %s", subscription_id, reason)
    return True


def _put_back(delivery_id: int, lease: str) -> None:
    """Release a leased row unsent, as it was (its attempts and due time unchanged)."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease == lease)
        .values(status="pending", lease=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )


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
    play is no longer ours), in the session (the caller commits)."""
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
