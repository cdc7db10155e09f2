"""Webinar platforms (Zoom, GoTo): registrants pushed, attendance pulled, by the worker."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("platforms", __name__)


def init_app(app: Flask) -> None:
    """Hear the registration and event signals, and give the worker the platform jobs: the
    registrant calls first, then the attendance pulls (which route what they apply)."""
    from app.platforms import models  # noqa: F401
    from app.platforms.pulls import pull_due
    from app.platforms.sync import connect, sync_registrants
    from app.worker import add_job

    connect()
    add_job(app, "platform_registrants", sync_registrants)
    add_job(app, "platform_attendance", pull_due)


from app.platforms import routes  # noqa: E402, F401
