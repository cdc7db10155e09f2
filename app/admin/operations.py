"""The console's operations page (admins): what waits in the worker's queues and what it gave
up on (failed messages, failed or held webhook deliveries, failed platform syncs), with a
button for each failure that queues it again for the worker's next pass."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for

from app.admin import bp
from app.auth.access import roles_required
from app.db import db
from app.mail.delivery import requeue_failed
from app.operations.backlog import backlog
from app.platforms.sync import retry_failed
from app.webhooks import subscriptions
from app.webhooks.models import WebhookDelivery

_ID = "<int(max=2147483647):item_id>"


@bp.get("/operations")
@roles_required("admin")
def operations() -> Any:
    return render_template("admin/operations.html", backlog=backlog(with_failures=True))


@bp.post(f"/operations/messages/{_ID}/retry")
@roles_required("admin")
def retry_message(item_id: int) -> Any:
    if requeue_failed(item_id):
        flash(f"Message {item_id} will be sent again at the worker's next pass.", "success")
    else:
        flash(f"Message {item_id} is not failed any more: nothing to retry.", "error")
    return redirect(url_for("admin.operations"), 303)


@bp.post(f"/operations/deliveries/{_ID}/retry")
@roles_required("admin")
def retry_delivery(item_id: int) -> Any:
    delivery = db.session.get(WebhookDelivery, item_id)
    if delivery is None:
        abort(404)
    if delivery.status in ("sending", "delivered"):
        flash(f"Delivery {item_id} is {delivery.status}: nothing to retry.", "error")
        return redirect(url_for("admin.operations"), 303)
    subscriptions.resend(delivery)
    flash(
        f"Delivery {item_id} will be sent again at the worker's next pass"
        " (once its webhook is resumed, if it is paused).",
        "success",
    )
    return redirect(url_for("admin.operations"), 303)


@bp.post(f"/operations/syncs/{_ID}/retry")
@roles_required("admin")
def retry_sync(item_id: int) -> Any:
    if retry_failed(item_id):
        flash(f"Platform sync {item_id} will be tried again at the worker's next pass.", "success")
    else:
        flash(f"Platform sync {item_id} is not failed any more: nothing to retry.", "error")
    return redirect(url_for("admin.operations"), 303)
