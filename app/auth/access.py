"""Who may see what: the staff session, bearer tokens for the API, and `roles_required`.

Pages use the session cookie; the JSON API uses only `Authorization: Bearer <token>`, so a
cookie never authorises an API call and the API needs no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import sessions, tokens
from app.extensions import login_manager
from app.models import ROLES, User

View = TypeVar("View", bound=Callable[..., Any])


def is_api_request() -> bool:
    return request.path.startswith("/api/")


login_manager.user_loader(sessions.user_for_cookie)

_BEARER_USER = "reserve.bearer_user"


def token_user() -> User | None:
    """The active staff user named by the request's bearer token, if any (a revoked or
    expired token names nobody)."""
    # Kept in the request's environ: the lookup records the token's use, once per request.
    if _BEARER_USER not in request.environ:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        found = None
        if scheme.lower() == "bearer" and token.strip():
            found = tokens.user_for_token(token.strip())
        request.environ[_BEARER_USER] = found
    return request.environ[_BEARER_USER]


def staff_user() -> User | None:
    """The signed-in staff user: by bearer token under /api/, by session cookie elsewhere."""
    if is_api_request():
        return token_user()
    return current_user if current_user.is_authenticated else None


def refuse_anonymous() -> Response:
    """Pages send the visitor to the login page; the API answers 401."""
    if is_api_request():
        body = {"error": {"code": "unauthorized", "message": "Send a valid API token."}}
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    return redirect(url_for("auth.login", next=_current_path()))


def refuse_role() -> Response:
    if is_api_request():
        body = {"error": {"code": "forbidden", "message": "Your role may not do this."}}
        response = jsonify(body)
        response.status_code = 403
        return response
    abort(403, "Your account does not have access to this page.")


login_manager.unauthorized_handler(refuse_anonymous)


def roles_required(*roles: str) -> Callable[[View], View]:
    """Let only staff with one of `roles` (and always admins) reach the view.

    The allowed roles stay on the view as `required_roles`, which the route walker in
    tests/test_routes_roles.py reads to check every guarded route.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    allowed = frozenset({"admin", *roles})

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = staff_user()
            if user is None:
                return refuse_anonymous()
            if user.role not in allowed:
                return refuse_role()
            return view(*args, **kwargs)

        guarded.required_roles = allowed  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def _current_path() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site; None for anything that could leave it."""
    if not target:
        return None
    target = target.strip()
    # Browsers read a backslash as a slash, so "/\\evil.example" is another host.
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    """Where a member of staff lands after logging in."""
    if user.is_staff_manager:
        return url_for("admin.events")
    return url_for("followup.index")
