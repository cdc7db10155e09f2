"""Staff sign-in: the login and logout pages, sessions, set-your-password links, and the role
guard other packages use."""

from flask import Blueprint, Flask

# cli_group=None: the package's command groups (cli.py) sit at the top level, `flask users …`.
bp = Blueprint("auth", __name__, cli_group=None)


def init_app(app: Flask) -> None:
    """Give the background worker its sessions job: forgetting long-ended sessions."""
    from app.auth.sessions import forget_old
    from app.worker import add_job

    add_job(app, "staff_sessions", forget_old)


from app.auth import cli, password_routes, routes  # noqa: E402, F401
