"""After the event: attendance, scoring, routing and the reps' follow-up lists."""

from flask import Blueprint, Flask

# cli_group=None: the package's command groups (cli.py) sit at the top level, `flask attendance …`.
bp = Blueprint("followup", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    """Give the background worker its follow-up jobs (alerting reps of hot registrants,
    routing ended events, escalating, expiring attendance previews), the thank-you page its
    booking offer, and privacy what follow-up holds about a person."""
    from app.followup import alerts, privacy
    from app.followup.attendance import previews
    from app.followup.due import route_due_events
    from app.followup.escalation import escalate_overdue
    from app.privacy.registry import add_eraser, add_exporter
    from app.registrations import booking
    from app.registrations import signals as registration_signals
    from app.worker import add_job

    # The registration's transaction only marks it; the worker alerts its rep.
    registration_signals.registered.connect(alerts.mark, weak=False)
    booking.provide(app, alerts.booking_for)
    add_job(app, "registrant_alerts", alerts.send_alerts)

    add_job(app, "followup_routing", route_due_events)
    add_job(app, "followup_escalation", lambda now: len(escalate_overdue(now)))
    add_exporter(app, "followups", privacy.export)
    add_eraser(app, "followups", privacy.erase)
    # Attendance previews waiting for "Apply" hold names and addresses for an hour.
    add_job(app, "attendance_previews", previews.expire_previews)
    add_eraser(app, "attendance_previews", previews.forget_previews_of)


from app.followup import cli, people_pages, routes  # noqa: E402, F401
