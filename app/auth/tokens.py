"""API tokens: issuing one (shown once), checking it on each call, listing and revoking.

The console's tokens page and `flask --app wsgi tokens …` both come here, so who may revoke
what, and what makes a token stop working, is written once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from app import fields
from app.auth.staff import StaffRejected
from app.db import db, rows_changed, utcnow, writing
from app.models import ApiToken, User

MAX_NAME_LENGTH = 120
MAX_EXPIRY_DAYS = 3650
# last_used_at moves at most this often per token: one write a minute, not one a call.
TOUCH_EVERY = timedelta(minutes=1)


def issue_token(
    user: User,
    *,
    name: str | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token acting as `user` and commit; returns the row and the token itself,
    which is shown this once and never again (only its digest is kept)."""
    problems: dict[str, str] = {}
    label = " ".join((name or "").split()) or None
    if label is not None and fields.CONTROL_IN_LINE.search(label):
        problems["name"] = "Write the name on one line, without control characters."
    elif label is not None and len(label) > MAX_NAME_LENGTH:
        problems["name"] = f"Keep the name under {MAX_NAME_LENGTH + 1} characters."
    if expires_in_days is not None and (
        not isinstance(expires_in_days, int)
        or isinstance(expires_in_days, bool)
        or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS
    ):
        problems["expires_in_days"] = (
            f"Use a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or none for no expiry."
        )
    if not user.active:
        problems["user"] = f"{user.email} is deactivated; its tokens would not work."
    if problems:
        raise StaffRejected("No token was created.", fields=problems)
    moment = now or utcnow()
    expires_at = moment + timedelta(days=expires_in_days) if expires_in_days else None
    row, secret = ApiToken.new(user, name=label, expires_at=expires_at, created_at=moment)
    db.session.commit()
    return row, secret


def user_for_token(secret: str, now: datetime | None = None) -> User | None:
    """The user a bearer token acts as, while it is neither revoked nor expired and its user
    is active; records when it was last used (at most once a minute)."""
    row = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == ApiToken.digest(secret))
    )
    moment = now or utcnow()
    if row is None or not row.works_at(moment):
        return None
    user_id = row.user_id
    if row.last_used_at is None or moment - row.last_used_at >= TOUCH_EVERY:
        # Called as the request starts (see app/auth/routes.py), before the view writes.
        with writing():
            db.session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == row.id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at < moment - TOUCH_EVERY,
                    ),
                )
                .values(last_used_at=moment)
            )
    return db.session.get(User, user_id)


def tokens_seen_by(viewer: User) -> list[ApiToken]:
    """Every token for an admin; a marketer's or rep's own otherwise. Newest first."""
    query = select(ApiToken).options(joinedload(ApiToken.user))
    if viewer.role != "admin":
        query = query.where(ApiToken.user_id == viewer.id)
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_seen_by(viewer: User, token_id: int) -> ApiToken | None:
    """The token with this id when `viewer` may see (and so revoke) it: their own, or any for
    an admin. None otherwise, so another member's token looks like no token at all."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (viewer.role != "admin" and row.user_id != viewer.id):
        return None
    return row


def revoke_token(row: ApiToken, now: datetime | None = None) -> bool:
    """Revoke one token and commit; False when it was already revoked."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    db.session.commit()
    return True


def revoke_all(user: User, now: datetime | None = None) -> int:
    """Revoke every live token of `user` in the caller's transaction; how many."""
    return rows_changed(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def status(row: ApiToken, now: datetime | None = None) -> str:
    """`active`, `revoked` or `expired`, as the console and the CLI show it."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"
