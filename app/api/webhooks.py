"""/api/v1/webhooks: outgoing webhook subscriptions and their delivery logs (admin only),
through the webhooks service."""

from __future__ import annotations

from typing import Any

from app.api import auth
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.lists import Page, paginate
from app.api.schemas.common import ListArgs
from app.api.schemas.webhooks import (
    DeliveryPage,
    WebhookChange,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
)
from app.db import db
from app.webhooks import subscriptions
from app.webhooks.models import WebhookSubscription

blp = ApiBlueprint(
    "Webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Outgoing webhooks, signed per the Standard Webhooks specification.",
)

ADMIN = ("admin",)


def _subscription(webhook_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, webhook_id)
    if subscription is None:
        fail(404, f"There is no webhook {webhook_id}.")
    return subscription


@blp.route("", methods=["GET"])
@blp.allow(*ADMIN)
@blp.arguments(ListArgs, location="query")
@blp.response(200, WebhookPage)
def list_webhooks(args: dict[str, Any]) -> Page:
    """List webhook subscriptions in the order they were added (without their secrets)."""
    return paginate(subscriptions.subscriptions(), args)


@blp.route("", methods=["POST"])
@blp.allow(*ADMIN)
@blp.arguments(WebhookIn)
@blp.response(201, WebhookCreated)
def create_webhook(values: dict[str, Any]) -> WebhookSubscription:
    """Subscribe a receiver to event types; the answer carries its secret, shown only here.

    A URL whose host resolves to a private, loopback or link-local address is refused (422).
    """
    return subscriptions.subscribe(values["url"], values["events"], owner=auth.require(ADMIN))


@blp.route("/<int(max=2147483647):webhook_id>", methods=["PATCH"])
@blp.allow(*ADMIN)
@blp.arguments(WebhookChange)
@blp.response(200, WebhookOut)
@blp.alt_response(404, response="NOT_FOUND")
def change_webhook(values: dict[str, Any], webhook_id: int) -> WebhookSubscription:
    """Pause a subscription (`{"active": false}`) or resume it (`{"active": true}`): a
    resumed one starts a fresh failure count and its pending deliveries are sent at the
    worker's next pass. Events that happened while it was paused were not queued for it."""
    subscription = _subscription(webhook_id)
    if values["active"]:
        subscriptions.resume(subscription)
    else:
        subscriptions.pause_by_hand(subscription, auth.require(ADMIN))
    return subscription


@blp.route("/<int(max=2147483647):webhook_id>", methods=["DELETE"])
@blp.allow(*ADMIN)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_webhook(webhook_id: int) -> None:
    """Remove a subscription and its delivery log; nothing more is sent to it."""
    subscriptions.unsubscribe(_subscription(webhook_id))


@blp.route("/<int(max=2147483647):webhook_id>/deliveries", methods=["GET"])
@blp.allow(*ADMIN)
@blp.arguments(ListArgs, location="query")
@blp.response(200, DeliveryPage)
@blp.alt_response(404, response="NOT_FOUND")
def list_deliveries(args: dict[str, Any], webhook_id: int) -> Page:
    """A subscription's delivery log, newest first: status, attempts, the receiver's answer."""
    return paginate(subscriptions.deliveries(_subscription(webhook_id)), args)
