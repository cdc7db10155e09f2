"""After the event: attendance, scoring, routing and the reps' follow-up lists."""

from flask import Blueprint, Flask

# cli_group=None: the package's command groups (cli.py) sit at the top level, `flask attendance …`.
bp = Blueprint("followup", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    """Give the background worker its follow-up jobs (routing ended events, escalating) and
    privacy what follow-up holds about a person."""
    from app.followup import privacy
    from app.followup.due import route_due_events
    from app.followup.escalation import escalate_overdue
    from app.privacy.registry import add_eraser, add_exporter
    from app.worker import add_job

    add_job(app, "followup_routing", route_due_events)
    add_job(app, "followup_escalation", lambda now: len(escalate_overdue(now)))
    add_exporter(app, "followups", privacy.export)
    add_eraser(app, "followups", privacy.erase)


from app.followup import cli, routes  # noqa: E402, F401
