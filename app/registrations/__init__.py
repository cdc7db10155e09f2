"""The public path: landing pages, reserving a seat, the waitlist, manage links and leads."""

from flask import Blueprint, Flask

bp = Blueprint("registrations", __name__)


def init_app(app: Flask) -> None:
    """Give the background worker the double opt-in job: unverified registrations past their
    deadline give their seats back."""
    from app.registrations.opt_in import expire_unverified
    from app.worker import add_job

    add_job(app, "unverified_expired", expire_unverified)


from app.registrations import embed, routes, unsubscribe, verification  # noqa: E402, F401
