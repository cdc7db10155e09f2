"""Builders for tests: real objects made through the same services users go through."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from app.db import db, utcnow
from app.events.models import Event
from app.events.services import create_event, update_event
from app.models import ApiToken, User, create_user

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


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
