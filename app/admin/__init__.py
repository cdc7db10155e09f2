"""The event console under /admin: events, their registrations, and settings."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import (  # noqa: E402, F401
    attendance,
    events,
    leads,
    navigation,
    operations,
    people,
    personal_links,
    platforms,
    post_event,
    questions,
    registration_columns,
    registrations,
    routing,
    settings,
    source_links,
    tokens,
    webhooks,
)
