"""The public path: landing pages, reserving a seat, the waitlist, manage links and leads."""

from flask import Blueprint

bp = Blueprint("registrations", __name__)

from app.registrations import routes  # noqa: E402, F401
