"""Webinar platforms (Zoom, GoTo): registrants pushed, attendance pulled, by the worker."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("platforms", __name__)


def init_app(app: Flask) -> None:
    """Hear the registration and event signals, and give the worker the platform jobs: the
    registrant calls first, then the attendance pulls (which route what they apply); and tell
    privacy what the platforms hold about a person."""
    from app.platforms import models, privacy  # noqa: F401
    from app.platforms.pulls import pull_due
    from app.platforms.sync import connect, sync_registrants
    from app.privacy.registry import add_eraser, add_exporter
    from app.worker import add_job

    connect()
    add_job(app, "platform_registrants", sync_registrants)
    add_job(app, "platform_attendance", pull_due)
    add_exporter(app, "platform_registrants", privacy.export)
    add_eraser(app, "platform_registrants", privacy.erase)


from app.platforms import routes  # noqa: E402, F401
