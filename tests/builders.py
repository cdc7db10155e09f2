"""Builders for tests: real objects made through the same services users go through."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event

from app.db import db, utcnow
from app.events.models import Event
from app.events.services import create_event, update_event
from app.models import ApiToken, User, create_user
from app.registrations.models import Registration
from app.registrations.services import Registrant, register

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def event_form(client: Any, path: str = "/admin/events/new", **changes: str | None) -> Any:
    """Fill the event form the way a marketer would, with `changes` on top."""
    values = {
        "csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
        "title": "Spring product tour",
        "slug": "",
        "description": "A **live** tour.",
        "timezone": "Europe/Berlin",
        "starts_at": "2030-07-01T10:00",
        "duration_minutes": "45",
        "capacity": "100",
        "waitlist": "y",
        "show_seats_left": "y",
        "post_event_emails": "y",
        "price": "",
        "currency": "USD",
        "join_url": "https://meet.example.com/tour",
        "location": "",
        "campaign": "Spring 2030",
        "registration_closes_at": "",
    }
    values.update(changes)
    return client.post(path, data={k: v for k, v in values.items() if v is not None})


def make_event(**overrides: Any) -> Event:
    """A published event through the events service; keyword arguments override the defaults."""
    status = overrides.pop("status", "published")
    values: dict[str, Any] = {
        "slug": "launch-webinar",
        "title": "Launch webinar",
        "description": "What is new this spring.",
        "starts_at": (utcnow() + timedelta(days=3)).replace(microsecond=0),
        "duration_minutes": 60,
        "timezone": "Europe/Berlin",
        "capacity": None,
        "waitlist": True,
        "join_url": "https://meet.example.com/launch",
        "campaign": "Spring launch",
    }
    values.update(overrides)
    event = create_event(values)
    if status != "draft":
        update_event(event, {"status": status})
    return event


def make_user(role: str = "admin", email: str | None = None) -> User:
    user = create_user(
        email or f"{role}-{uuid.uuid4().hex[:6]}@example.com", role.title(), role, "password123"
    )
    db.session.commit()
    return user


def token_for(user: User) -> str:
    token = ApiToken.issue(user)
    db.session.commit()
    return token


def registrant(email: str, **fields: Any) -> Registrant:
    """What a person gives when registering, as the form and the API hand it to the service.

    The first name defaults to the address's local part ("ada@…" is Ada).
    """
    return Registrant(
        email=email,
        email_normalized=email.strip().lower(),
        first_name=fields.pop("first_name", email.split("@")[0].title()),
        **fields,
    )


def register_person(
    event: Event,
    email: str,
    *,
    now: datetime | None = None,
    by_staff: bool = False,
    **fields: Any,
) -> Registration:
    """Register `email` for `event` through the registration service; returns the Registration.

    `now` is when the person registers: by default the present, or an hour before the start
    for an event that has already begun (the tests of what follows an event need registrants).
    """
    if now is None and event.starts_at <= utcnow():
        now = event.starts_at - timedelta(hours=1)
    outcome = register(event.id, registrant(email, **fields), now=now, by_staff=by_staff)
    return outcome.registration


def form_token(client: Any, path: str) -> str:
    """The CSRF token from the form on `path`, for the signed-in client."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return csrf_token(response.get_data(as_text=True))


def cancel_in_two_steps(client: Any, manage_path: str) -> Any:
    """What a registrant does to cancel: open the confirmation step the manage page links to,
    then confirm there. Returns the answer to the confirming POST."""
    page = client.get(f"{manage_path}/cancel")
    assert page.status_code == 200, (manage_path, page.status_code)
    return client.post(
        f"{manage_path}/cancel",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "confirm": "yes"},
    )


def log_in(client: Any, user: User, password: str | None = None) -> None:
    """Sign `user` in on `client` via the form (by default with `make_user`'s password)."""
    password = password or "password123"
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 303, response.text


def bearer(user: User) -> dict[str, str]:
    """Headers for an API call acting as `user`, through a new token."""
    return {"Authorization": f"Bearer {token_for(user)}"}


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
