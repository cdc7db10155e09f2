"""Webhook subscriptions: adding one (its secret made here, shown once), listing, removing,
pausing and resuming, and the delivery log; every face (API, console) goes through these."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from sqlalchemy import Select, select, update

from app.db import db, rows_changed, utcnow
from app.models import User
from app.refusals import Refusal
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from app.webhooks.targets import checked_url, resolve
from app.worker import wake_after_commit


class SubscriptionRefused(Refusal):
    """A subscription the rules refuse (an unknown event type, no event at all)."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscribe(url: str, events: Sequence[str], owner: User | None = None) -> WebhookSubscription:
    """Add a subscription to `events` at `url`, committed; refused for an unknown event type
    or a URL webhooks may not go to (checked now, and again before every delivery). `owner`
    (who adds it) is the one emailed if it is ever paused."""
    wanted = list(dict.fromkeys(events))
    unknown = [name for name in wanted if name not in EVENT_TYPES]
    if unknown:
        raise SubscriptionRefused(fields={"events": f"Unknown event types: {', '.join(unknown)}."})
    if not wanted:
        raise SubscriptionRefused(fields={"events": "Give at least one event type."})
    resolve(checked_url(url))
    subscription = WebhookSubscription(
        url=url,
        events=wanted,
        secret=new_secret(),
        active=True,
        owner_id=owner.id if owner is not None else None,
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def subscriptions() -> Select[tuple[WebhookSubscription]]:
    """Every subscription, oldest first."""
    return select(WebhookSubscription).order_by(WebhookSubscription.id)


def unsubscribe(subscription: WebhookSubscription) -> None:
    """Remove the subscription and its delivery log, committed."""
    db.session.delete(subscription)
    db.session.commit()


def deliveries(subscription: WebhookSubscription) -> Select[tuple[WebhookDelivery]]:
    """The subscription's delivery log, newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc())
    )


def pause_by_hand(subscription: WebhookSubscription, by: User) -> None:
    """Stop deliveries to the subscription until it is resumed, committed (nobody is
    emailed: the one who paused it knows)."""
    if subscription.active:
        subscription.active = False
        subscription.paused_at = utcnow()
        subscription.paused_reason = f"Paused by {by.name or by.email}."
    db.session.commit()


def resume(subscription: WebhookSubscription) -> int:
    """Deliver to the subscription again, committed: its failure streak starts afresh and
    the deliveries still pending are due at once; how many that is. Deliveries given up
    (`failed`) stay so; "resend" in the log sends one again."""
    if subscription.active:
        return 0
    subscription.active = True
    subscription.paused_at = None
    subscription.paused_reason = None
    subscription.failures = 0
    subscription.failing_since = None
    due = rows_changed(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == "pending",
        )
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if due:
        wake_after_commit()
    db.session.commit()
    return due


def resend(delivery: WebhookDelivery) -> None:
    """Send a delivery again at the worker's next pass (same webhook-id), committed."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status != "sending")
        .values(status="pending", next_attempt_at=utcnow(), last_error=None)
    )
    db.session.commit()
