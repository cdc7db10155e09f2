"""The console's webhooks pages (admins): each subscription, its delivery log, a button to
send a delivery again, and buttons to pause and resume. Subscriptions are added through the
API, which shows the secret."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.auth.access import roles_required
from app.db import db
from app.webhooks import subscriptions
from app.webhooks.models import WebhookDelivery, WebhookSubscription

# The log shows the newest deliveries; the API pages through all of them.
LOG_ROWS = 100


def _subscription_or_404(webhook_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, webhook_id)
    if subscription is None:
        abort(404)
    return subscription


@bp.get("/webhooks")
@roles_required("admin")
def webhooks() -> Any:
    listed = list(db.session.scalars(subscriptions.subscriptions()))
    return render_template("admin/webhooks.html", subscriptions=listed)


@bp.get("/webhooks/<int(max=2147483647):webhook_id>")
@roles_required("admin")
def webhook_log(webhook_id: int) -> Any:
    subscription = _subscription_or_404(webhook_id)
    log = list(db.session.scalars(subscriptions.deliveries(subscription).limit(LOG_ROWS)))
    return render_template("admin/webhook_log.html", subscription=subscription, log=log)


@bp.post(
    "/webhooks/<int(max=2147483647):webhook_id>/deliveries/<int(max=2147483647):delivery_id>/resend"
)
@roles_required("admin")
def resend_delivery(webhook_id: int, delivery_id: int) -> Any:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != webhook_id:
        abort(404)
    subscriptions.resend(delivery)
    if _subscription_or_404(webhook_id).active:
        flash("The delivery will be sent again at the worker's next pass.", "success")
    else:
        flash("The delivery will be sent again once this webhook is resumed.", "success")
    return redirect(url_for("admin.webhook_log", webhook_id=webhook_id), 303)


@bp.post("/webhooks/<int(max=2147483647):webhook_id>/resume")
@roles_required("admin")
def resume_webhook(webhook_id: int) -> Any:
    due = subscriptions.resume(_subscription_or_404(webhook_id))
    waiting = f"{due} pending deliver{'y' if due == 1 else 'ies'}"
    flash(f"Resumed: {waiting} will be sent at the worker's next pass.", "success")
    return redirect(url_for("admin.webhook_log", webhook_id=webhook_id), 303)


@bp.post("/webhooks/<int(max=2147483647):webhook_id>/pause")
@roles_required("admin")
def pause_webhook(webhook_id: int) -> Any:
    subscriptions.pause_by_hand(_subscription_or_404(webhook_id), current_user)
    flash("Paused: nothing is sent to this receiver until it is resumed.", "success")
    return redirect(url_for("admin.webhook_log", webhook_id=webhook_id), 303)
