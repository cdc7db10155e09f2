"""Outgoing webhooks (Standard Webhooks): subscriptions, the delivery outbox the domain
signals fill, and the worker job that signs and sends it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hear the domain packages' signals and give the worker the delivery job."""
    from app.webhooks import models  # noqa: F401
    from app.webhooks.delivery import deliver_due
    from app.webhooks.receivers import connect
    from app.worker import add_job

    connect()
    add_job(app, "webhooks", deliver_due)
