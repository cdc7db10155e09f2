"""Every route the app serves, walked from `app.url_map`: staff pages refuse visitors who are not
signed in and roles that may not see them, public pages stay public, and the API answers 401/403.

The walk is generic, so a route added later is checked without touching this file:

- a view guarded by `app.auth.access.roles_required` carries `required_roles`;
- every page under /admin must be guarded so (an unguarded one fails the walk);
- any other page is public and must answer visitors without a login;
- every API call answers 401 without a token unless PUBLIC_API names it, and a role the
  contract does not allow (API_MANAGERS, API_ADMINS) gets 403.

URL parameters are filled with real objects (an event, its registration and manage link, a rep,
a lead, a campaign); a parameter the walk does not know yet gets a placeholder, which still shows
the guard, since guards run before a view looks anything up.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from app.models import FOLLOWUP_ROLES, ROLES
from app.registrations.links import manage_token
from tests.builders import log_in, make_event, make_user, register_person, token_for

PUBLIC_API = {
    ("GET", "/api/v1/events"),
    ("POST", "/api/v1/events/<slug>/registrations"),
    ("GET", "/api/v1/events/<slug>/questions"),
    ("GET", "/api/v1/openapi.json"),
}
# The contract's API table: calls only admins and marketers make, and calls only admins make.
API_MANAGERS = {
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/events/<slug>/cancel"),
    ("GET", "/api/v1/events/<slug>/registrations"),
    ("POST", "/api/v1/events/<slug>/attendance"),
    ("POST", "/api/v1/events/<slug>/attendance/pull"),
    ("POST", "/api/v1/events/<slug>/followups"),
    ("POST", "/api/v1/registrations/<registration_id>/approve"),
    ("POST", "/api/v1/registrations/<registration_id>/decline"),
    ("POST", "/api/v1/events/<slug>/questions"),
    ("PATCH", "/api/v1/events/<slug>/questions/<key>"),
    ("DELETE", "/api/v1/events/<slug>/questions/<key>"),
    ("GET", "/api/v1/events/<slug>/source-links"),
    ("POST", "/api/v1/events/<slug>/source-links"),
    ("GET", "/api/v1/events/<slug>/source-links/<code>"),
    ("PATCH", "/api/v1/events/<slug>/source-links/<code>"),
    ("DELETE", "/api/v1/events/<slug>/source-links/<code>"),
    ("POST", "/api/v1/events/<slug>/personal-links"),
}
API_ADMINS = {
    ("GET", "/api/v1/reps"),
    ("POST", "/api/v1/reps"),
    ("PATCH", "/api/v1/reps/<rep_id>"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("DELETE", "/api/v1/webhooks/<webhook_id>"),
    ("GET", "/api/v1/webhooks/<webhook_id>/deliveries"),
    ("GET", "/api/v1/routing/rules"),
    ("POST", "/api/v1/routing/rules"),
    ("PATCH", "/api/v1/routing/rules/<rule_id>"),
    ("DELETE", "/api/v1/routing/rules/<rule_id>"),
}
# Public endpoints whose proof is a signature, not a login: an unsigned request gets the 401
# the contract names (Zoom's webhook), never the login page.
SIGNED_WEBHOOKS = {("POST", "/zoom/webhook")}
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _plain(rule: str) -> str:
    """`/leads/<int(max=9):lead_id>` -> `/leads/<lead_id>`, to compare with the contract."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"<\1>", rule)


def _required_roles(app: Flask, endpoint: str, method: str) -> frozenset[str] | None:
    view = app.view_functions[endpoint]
    roles = getattr(view, "required_roles", None)
    view_class = getattr(view, "view_class", None)
    if roles is None and view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        roles = getattr(handler, "required_roles", None)
    return roles


def _csrf(client: Any, app: Flask) -> str:
    """A valid CSRF token for this client's session, as Flask-WTF signs one."""
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


class World:
    """Real objects to fill URL parameters with, and a signed-in client per role."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.event = make_event(slug="walked-event", location="Main hall, Berlin")
        self.registration = register_person(self.event, "walker@example.com")
        self.users = {role: make_user(role) for role in ROLES}
        self.clients = {}
        self.tokens = {}
        for role, user in self.users.items():
            client = app.test_client()
            log_in(client, user)
            self.clients[role] = client
            self.tokens[role] = token_for(user)
        self.anonymous = app.test_client()

    def values(self, rule: Any) -> dict[str, Any]:
        known = {
            "slug": self.event.slug,
            "registration_id": self.registration.id,
            "token": manage_token(self.registration),
            "user_id": self.users["rep"].id,
            "rep_id": self.users["rep"].id,
            "lead_id": self.registration.lead_id,
            "campaign_id": self.event.campaign_id,
            "filename": "site.css",
        }
        values = {}
        for name in rule.arguments:
            if name in known:
                values[name] = known[name]
            else:
                # Guards run before the view looks anything up, so any id shows the guard.
                converter = rule._converters.get(name)
                values[name] = 1 if "Integer" in type(converter).__name__ else "unknown"
        return values


class Crashed:
    """What a request that raised is recorded as: a 500 with the exception beside it."""

    def __init__(self, exc: Exception) -> None:
        self.status_code = 500
        self.headers: dict[str, str] = {}
        self.exc = exc

    def __repr__(self) -> str:
        return f"500 ({type(self.exc).__name__}: {self.exc})"


def _request(client: Any, app: Flask, method: str, path: str, **kwargs: Any) -> Any:
    if method in ("POST", "PUT", "PATCH", "DELETE") and not path.startswith("/api/"):
        kwargs.setdefault("data", {"csrf_token": _csrf(client, app)})
    try:
        response = client.open(path, method=method, **kwargs)
        response.get_data()  # a streamed body is read to its end, inside this request
    except Exception as exc:  # noqa: BLE001 - the walk reports every crash, not only the first
        return Crashed(exc)
    return response


def _routes(app: Flask) -> list[tuple[Any, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods or ()):
            if method in CHECKED_METHODS:
                found.append((rule, method))
    return found


def test_the_walk_sees_the_console_and_the_public_pages(app):
    rules = {_plain(rule.rule) for rule, _method in _routes(app)}
    for expected in ("/admin/events", "/admin/settings", "/login", "/logout", "/e/<slug>"):
        assert expected in rules


def test_every_route_refuses_or_admits_exactly_whom_it_should(app):
    world = World(app)
    problems: list[str] = []
    checked = {"staff page": 0, "public page": 0, "api": 0}

    for rule, method in _routes(app):
        path = app.url_map.bind("localhost").build(
            rule.endpoint, world.values(rule), method=method, append_unknown=False
        )
        label = f"{method} {rule.rule}"
        plain = (method, _plain(rule.rule))

        if rule.rule.startswith("/api/"):
            checked["api"] += 1
            if plain in PUBLIC_API:
                continue
            anonymous = _request(world.anonymous, app, method, path, json={})
            if anonymous.status_code != 401:
                problems.append(f"{label}: anonymous API call got {anonymous.status_code}, not 401")
            forbidden = set()
            if plain in API_MANAGERS:
                forbidden = {"rep"}
            if plain in API_ADMINS:
                forbidden = {"marketer", "rep"}
            for role in forbidden:
                answer = _request(
                    world.anonymous,
                    app,
                    method,
                    path,
                    json={},
                    headers={"Authorization": f"Bearer {world.tokens[role]}"},
                )
                if answer.status_code != 403:
                    problems.append(f"{label}: a {role}'s token got {answer.status_code}, not 403")
            # A session cookie never stands in for a token.
            cookie = _request(world.clients["admin"], app, method, path, json={})
            if cookie.status_code != 401:
                problems.append(f"{label}: a session cookie got {cookie.status_code}, not 401")
            continue

        roles = _required_roles(app, rule.endpoint, method)
        if roles is None and rule.rule.startswith("/admin"):
            problems.append(f"{label}: a console page without roles_required")
            continue

        if roles is None:
            checked["public page"] += 1
            answer = _request(world.anonymous, app, method, path)
            location = answer.headers.get("Location", "")
            refused = (401, 403) if plain not in SIGNED_WEBHOOKS else (403,)
            if answer.status_code in refused or location.startswith("/login"):
                problems.append(f"{label}: public page refused a visitor ({answer.status_code})")
            if answer.status_code >= 500:
                problems.append(f"{label}: public page answered {answer.status_code}")
            continue

        checked["staff page"] += 1
        anonymous = _request(world.anonymous, app, method, path)
        location = anonymous.headers.get("Location", "")
        if anonymous.status_code != 302 or not location.startswith("/login?next="):
            problems.append(
                f"{label}: a visitor got {anonymous.status_code} {location!r}, not the login page"
            )
        for role in ROLES:
            client = world.clients[role]
            if role not in roles:
                answer = _request(client, app, method, path)
                if answer.status_code != 403:
                    problems.append(f"{label}: a {role} got {answer.status_code}, not 403")
            elif method == "GET":
                answer = _request(client, app, method, path)
                if answer.status_code in (401, 403) or answer.status_code >= 500:
                    problems.append(f"{label}: a {role} may see it but got {answer!r}")

    assert problems == []
    assert checked["staff page"] >= 20 and checked["public page"] >= 5


def test_admins_are_let_through_every_guard(app):
    for rule, method in _routes(app):
        roles = _required_roles(app, rule.endpoint, method)
        if roles is not None:
            assert "admin" in roles, f"{method} {rule.rule}"


def test_settings_are_for_admins_only_and_events_for_marketers_too(app):
    for rule, method in _routes(app):
        roles = _required_roles(app, rule.endpoint, method)
        if rule.rule.startswith("/admin/settings"):
            assert roles == {"admin"}, rule.rule
        elif rule.rule.startswith("/admin/events"):
            assert roles == {"admin", "marketer"}, rule.rule


@pytest.mark.parametrize("role", ROLES)
def test_the_console_links_follow_ups_for_the_roles_that_work_them(app: Flask, client: Any, role):
    log_in(client, make_user(role))
    page = client.get("/admin/tokens").get_data(as_text=True)
    linked = 'href="/followups">Follow-ups</a>' in page
    assert linked == (role in FOLLOWUP_ROLES)
