"""The event console under /admin: events, their registrations, and settings."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import attendance, events, leads, registrations, routing, settings  # noqa: E402, F401
