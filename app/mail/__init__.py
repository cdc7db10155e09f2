"""Email: the outbox, the messages registrants get, and the worker that sends them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.mail import models, notifications, worker  # noqa: F401

    notifications.connect()
    worker.init_app(app)
