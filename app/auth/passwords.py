"""Set-your-password links for staff: the invitation a new member of staff is emailed, and the
"forgot password" link. Each works once, until it expires, for an active account only; only its
SHA-256 is stored, as for API tokens and sessions.

Setting a password through a link uses up every open link of that user and ends all their
sessions (whoever held the old password is logged out everywhere).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import select, update

from app.auth import sessions
from app.auth.staff import StaffRejected, password_problem
from app.db import db, rows_changed, utcnow
from app.mail import outbox
from app.mail.compose import Letter, one_line
from app.models import PasswordToken, User
from app.refusals import Refusal

# The outbox kinds of the two letters.
INVITATION = "staff_invitation"
RESET = "password_reset"
SUBJECTS = {
    "invitation": "You're invited to the event console",
    "reset": "Set a new password for the event console",
}


class LinkNotValid(Refusal):
    """A set-your-password link that is unknown, used, expired or for an inactive account."""


def lifetime(purpose: str) -> timedelta:
    config = current_app.config
    if purpose == "invitation":
        return timedelta(hours=float(config["STAFF_INVITATION_HOURS"]))
    return timedelta(hours=float(config["PASSWORD_RESET_HOURS"]))


def queue_invitation(user: User, *, invited_by: User | None = None) -> None:
    """Email `user` an invitation holding a set-your-password link, in the caller's
    transaction (the caller commits)."""
    _queue_link(user, "invitation", invited_by=invited_by)


def send_reset(email: str, now: datetime | None = None) -> None:
    """Email a "forgot password" link to the active staff account with this address, if
    there is one, and commit. Says nothing either way: the page answers the same."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is not None and user.active:
        _queue_link(user, "reset", now=now)
    db.session.commit()


def user_for_link(secret: str, now: datetime | None = None) -> User | None:
    """The active user a link may set the password of, or None (unknown, used, expired)."""
    row = _usable(secret, now or utcnow())
    return row.user if row is not None else None


def set_password_with_link(secret: str, password: str, now: datetime | None = None) -> User:
    """Set the password of the link's user and commit: the link and every other open link of
    theirs are used up, and all their sessions end. Raises `LinkNotValid` for a link that no
    longer works, `StaffRejected` for a password too short (the link still works then)."""
    moment = now or utcnow()
    row = _usable(secret, moment)
    if row is None:
        raise LinkNotValid(_NOT_VALID)
    if why := password_problem(password):
        raise StaffRejected(fields={"password": why})
    # Claimed by a conditional update, so two tabs posting the same link cannot both use it.
    claimed = rows_changed(
        update(PasswordToken)
        .where(PasswordToken.id == row.id, PasswordToken.used_at.is_(None))
        .values(used_at=moment)
    )
    if claimed != 1:
        db.session.rollback()
        raise LinkNotValid(_NOT_VALID)
    user = row.user
    rows_changed(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
        .values(used_at=moment)
    )
    sessions.end_all(user, moment)
    user.set_password(password)
    db.session.commit()
    return user


_NOT_VALID = (
    "This link has expired or was already used. Ask for a new one from the login page "
    '("Forgot your password?").'
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _usable(secret: str, now: datetime) -> PasswordToken | None:
    if not secret or len(secret) > 100:
        return None
    row = db.session.scalar(
        select(PasswordToken).where(PasswordToken.token_hash == _digest(secret))
    )
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.active:
        return None
    return row


def _queue_link(
    user: User, purpose: str, *, invited_by: User | None = None, now: datetime | None = None
) -> None:
    moment = now or utcnow()
    secret = secrets.token_urlsafe(32)
    row = PasswordToken(
        user=user,
        purpose=purpose,
        token_hash=_digest(secret),
        created_at=moment,
        expires_at=moment + lifetime(purpose),
    )
    db.session.add(row)
    db.session.flush()  # the row's id names the letter
    base = current_app.config["BASE_URL"]
    subject = one_line(SUBJECTS[purpose])
    context = {
        "subject": subject,
        "recipient": user,
        "invited_by": invited_by,
        "link": f"{base}/password/set/{secret}",
        "login_url": f"{base}/login",
        "hours": lifetime_in_words(purpose),
    }
    letter = Letter(
        subject,
        render_template(f"auth/mail/{purpose}.txt", **context),
        render_template(f"auth/mail/{purpose}.html", **context),
    )
    kind = INVITATION if purpose == "invitation" else RESET
    outbox.queue_letter(kind, f"{kind}:{row.id}", letter, to_email=user.email, to_name=user.name)


def lifetime_in_words(purpose: str) -> str:
    """How long a link works, in words: "24 hours", "1 hour", "30 minutes"."""
    minutes = round(lifetime(purpose).total_seconds() / 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"
