"""Who is calling: the bearer token's user, and which roles may make each call."""

from __future__ import annotations

from flask import request

from app.api.errors import fail
from app.auth.access import token_user
from app.models import MANAGER_ROLES, ROLES, User

# The role sets the calls name, read from the one role table.
MANAGERS = MANAGER_ROLES
STAFF = ROLES

_CALLER = "reserve.api_caller"


def caller() -> User | None:
    """The staff user the request's token acts as; None without a token; 401 for a bad one."""
    # Kept in the request's environ, not `g`: an app context (and its `g`) can outlive a
    # request, as in tests that make several requests in one context.
    if _CALLER not in request.environ:
        request.environ[_CALLER] = _authenticate()
    return request.environ[_CALLER]


def _authenticate() -> User | None:
    if "Authorization" not in request.headers:
        return None
    user = token_user()
    if user is None:
        # A caller who sent a token meant to be someone: answering as the public would hide
        # a revoked or mistyped token behind smaller results.
        fail(
            401,
            "This API token is not valid (unknown, revoked, expired, or its user is "
            "deactivated); send it as `Authorization: Bearer <token>`.",
        )
    return user


def require(roles: tuple[str, ...]) -> User:
    """The caller, when their role is one of `roles`; 401 without a token, 403 otherwise."""
    user = caller()
    if user is None:
        fail(401, "This call needs an API token: `Authorization: Bearer <token>`.")
    if user.role not in roles:
        fail(403, f"A {user.role} may not do this; it takes one of: {', '.join(roles)}.")
    return user
