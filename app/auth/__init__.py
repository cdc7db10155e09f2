"""Staff sign-in: the login and logout pages, sessions, and the role guard other packages use."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402, F401
