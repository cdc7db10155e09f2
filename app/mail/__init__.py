"""Email: the outbox door, the messages registrants get, and sending them from the worker."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hear the registration and event signals, and give the worker mail's part of each
    pass: queueing due reminders (a job), then writing and sending the outbox (last)."""
    from app import worker
    from app.mail import models, outbox, receivers  # noqa: F401
    from app.mail.delivery import send_outbox
    from app.mail.reminders import queue_due_reminders

    receivers.connect()
    outbox.connect()
    worker.add_job(app, "reminders", queue_due_reminders)
    worker.add_final_step(app, "outbox", send_outbox)
