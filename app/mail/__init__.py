"""Email: the outbox door, the messages registrants get, and sending them from the worker."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hear the registration and event signals, and give the worker mail's part of each
    pass: queueing due reminders and post-event emails (jobs), then writing and sending the
    outbox (last); and give privacy what the outbox holds about a person."""
    from app import worker
    from app.mail import models, outbox, privacy, receivers  # noqa: F401
    from app.mail.delivery import send_outbox
    from app.mail.post_event import queue_post_event_emails
    from app.mail.reminders import queue_due_reminders
    from app.privacy.registry import add_eraser, add_exporter

    receivers.connect()
    outbox.connect()
    worker.add_job(app, "reminders", queue_due_reminders)
    worker.add_job(app, "post_event_emails", queue_post_event_emails)
    worker.add_final_step(app, "outbox", send_outbox)
    add_exporter(app, "emails", privacy.export)
    add_eraser(app, "emails", privacy.erase)
    worker.add_job(app, "retention_outbox_bodies", privacy.forget_old_bodies)
