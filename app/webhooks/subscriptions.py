"""Webhook subscriptions: adding one (its secret made here, shown once), listing, removing,
and the delivery log; every face (API, console) goes through these."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from sqlalchemy import Select, select, update

from app.db import db, utcnow
from app.refusals import Refusal
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from app.webhooks.targets import checked_url, resolve


class SubscriptionRefused(Refusal):
    """A subscription the rules refuse (an unknown event type, no event at all)."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscribe(url: str, events: Sequence[str]) -> WebhookSubscription:
    """Add a subscription to `events` at `url`, committed; refused for an unknown event type
    or a URL webhooks may not go to (checked now, and again before every delivery)."""
    wanted = list(dict.fromkeys(events))
    unknown = [name for name in wanted if name not in EVENT_TYPES]
    if unknown:
        raise SubscriptionRefused(fields={"events": f"Unknown event types: {', '.join(unknown)}."})
    if not wanted:
        raise SubscriptionRefused(fields={"events": "Give at least one event type."})
    resolve(checked_url(url))
    subscription = WebhookSubscription(url=url, events=wanted, secret=new_secret(), active=True)
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


def resend(delivery: WebhookDelivery) -> None:
    """Send a delivery again at the worker's next pass (same webhook-id), committed."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status != "sending")
        .values(status="pending", next_attempt_at=utcnow(), last_error=None)
    )
    db.session.commit()
