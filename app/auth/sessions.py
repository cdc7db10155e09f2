"""Console sessions held on the server: a login starts one, and logout, a new password,
deactivation or idleness ends it, so an old cookie replayed later is only a logged-out visitor.

The signed session cookie carries Flask-Login's user id beside a random key naming one
`StaffSession` row; the user loader accepts the cookie only while that row is live.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from app.db import db, rows_changed, utcnow, writing
from app.models import StaffSession, User

SESSION_KEY = "staff_session"
# Ended sessions stay this long (who was logged in when), then the worker deletes them.
KEEP_ENDED = timedelta(days=30)
# last_seen_at moves at most this often per session: one write a minute, not one a request.
TOUCH_EVERY = timedelta(minutes=1)


def begin(user: User) -> None:
    """Log `user` in on this browser with a fresh cookie naming a new session row."""
    clear_cookie()
    key = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(StaffSession(user=user, key_hash=_digest(key), created_at=now, last_seen_at=now))
    db.session.commit()
    login_user(user)
    session[SESSION_KEY] = key


def end_current() -> None:
    """Log this browser out: its session row ends, so the same cookie never works again."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.key_hash == _digest(key), StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        db.session.commit()
    logout_user()
    clear_cookie()


def end_all(user: User, now: datetime | None = None) -> int:
    """End every live session of `user`, in the caller's transaction; how many ended."""
    return rows_changed(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def live_sessions(user: User, now: datetime | None = None) -> int:
    """How many browsers `user` is logged in on now."""
    rows = db.session.scalars(
        select(StaffSession.last_seen_at).where(
            StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
        )
    )
    cutoff = (now or utcnow()) - idle_time()
    return sum(1 for seen in rows if seen > cutoff)


def user_for_cookie(user_id: str) -> User | None:
    """The user this request's cookie logs in, when its session row is live; else None.

    Flask-Login calls this (as its user loader) with the id from the cookie, also for a
    "remember me" cookie, which therefore never logs anyone in without a live session.
    """
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not user_id.isdigit():
        return None
    row = db.session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.user))  # one query per request, user included
        .where(StaffSession.key_hash == _digest(key))
    )
    if row is None or row.ended_at is not None or row.user_id != int(user_id):
        return None
    now = utcnow()
    if now - row.last_seen_at >= idle_time():
        _end_idle(row.id, now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        _touch(row.id, now)
    user = db.session.get(User, int(user_id))
    # A deactivated account loses its open sessions at its next request.
    return user if user is not None and user.active else None


def forget_old(now: datetime) -> int:
    """The worker's job: delete sessions ended (or idle) for longer than `KEEP_ENDED`."""
    cutoff = now - max(KEEP_ENDED, idle_time())
    with writing():
        forgotten = rows_changed(
            delete(StaffSession).where(
                or_(StaffSession.ended_at < cutoff, StaffSession.last_seen_at < cutoff)
            )
        )
    return forgotten


def idle_time() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_IDLE_HOURS"]))


def clear_cookie() -> None:
    """Nothing from before a login or logout carries over, not even the CSRF token."""
    session.clear()
    # The signed token is cached per request context; it belongs to the session just cleared.
    g.pop("csrf_token", None)


def _touch(session_id: int, now: datetime) -> None:
    # The loader runs as a request starts (see routes.py), before the view writes anything,
    # so this short transaction commits nothing of the view's.
    with writing():
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id, StaffSession.last_seen_at < now - TOUCH_EVERY)
            .values(last_seen_at=now)
        )


def _end_idle(session_id: int, now: datetime) -> None:
    with writing():
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
