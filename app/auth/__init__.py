"""Staff sign-in: the login and logout pages, sessions, and the role guard other packages use."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Give the background worker its sessions job: forgetting long-ended sessions."""
    from app.auth.sessions import forget_old
    from app.worker import add_job

    add_job(app, "staff_sessions", forget_old)


from app.auth import routes  # noqa: E402, F401
