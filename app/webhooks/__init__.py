"""Outgoing webhooks (Standard Webhooks): subscriptions, the delivery outbox the domain
signals fill, and the worker job that signs and sends it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hear the domain packages' signals, give the worker the delivery job, and give
    privacy what deliveries hold about a person."""
    from app.privacy.registry import add_eraser, add_exporter
    from app.webhooks import models, privacy  # noqa: F401
    from app.webhooks.delivery import deliver_due
    from app.webhooks.receivers import connect
    from app.worker import add_job

    connect()
    add_job(app, "webhooks", deliver_due)
    add_exporter(app, "webhook_deliveries", privacy.export)
    add_eraser(app, "webhook_deliveries", privacy.erase)
    add_job(app, "retention_delivery_logs", privacy.forget_old_deliveries)
