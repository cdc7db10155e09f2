"""Staff accounts shared by every package: users, rep profiles, API tokens and the links that
set a password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import Model, UTCDateTime, db, utcnow

# The staff roles, the one table every face reads (command line, console form, API, access
# checks). An admin may do everything; the managers run events; a rep works follow-up.
ROLES = ("admin", "marketer", "rep")
MANAGER_ROLES = ("admin", "marketer")
# Who works follow-up: a rep their own list, an admin everyone's.
FOLLOWUP_ROLES = ("admin", "rep")


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rep_profile: Mapped[RepProfile | None] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_staff_manager(self) -> bool:
        return self.role in MANAGER_ROLES

    @property
    def works_followups(self) -> bool:
        return self.role in FOLLOWUP_ROLES


class RepProfile(Model):
    """What routing needs to know about a sales rep."""

    __tablename__ = "rep_profiles"
    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    weight: Mapped[int] = mapped_column(default=1)
    capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    out_of_office_until: Mapped[date | None]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Where a registrant books time with this rep (a Calendly-style link), offered on the
    # thank-you page of registrants the rep is alerted about.
    meeting_url: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(back_populates="rep_profile")


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token.

    A token works until it is revoked, its `expires_at` passes or its user is deactivated;
    `app.auth.tokens` issues, checks and revokes them.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def new(cls, user: User, **values: Any) -> tuple[ApiToken, str]:
        """Add a new token for `user` to the session; returns the row and the token itself."""
        token = "rsv_" + secrets.token_urlsafe(32)
        row = cls(user=user, token_hash=cls.digest(token), **values)
        db.session.add(row)
        return row, token

    @classmethod
    def issue(cls, user: User) -> str:
        """Store a new token for `user` and return it; it is never shown again."""
        return cls.new(user)[1]

    def works_at(self, moment: datetime) -> bool:
        expired = self.expires_at is not None and self.expires_at <= moment
        return self.revoked_at is None and not expired and self.user.active


class StaffSession(Model):
    """One console login: the signed session cookie names it, and it ends at logout.

    Only the SHA-256 of the cookie's key is stored, as for API tokens. A cookie counts only
    while its row is live (no `ended_at`, seen within the idle time), so ending the row logs
    that browser out even though the cookie itself stays validly signed.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


# Why a set-your-password link was sent: a new member of staff, or "forgot password".
PASSWORD_LINK_PURPOSES = ("invitation", "reset")


class PasswordToken(Model):
    """A set-your-password link emailed to a member of staff; only its SHA-256 is stored.

    It works once (`used_at`), until `expires_at`, and only for an active user;
    `app.auth.passwords` issues and redeems them.
    """

    __tablename__ = "password_tokens"
    __table_args__ = (
        CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p}'" for p in PASSWORD_LINK_PURPOSES) + ")",
            name="purpose",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Setting(Model):
    """Settings staff change in the console (sender name and address, SLAs), by key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def create_user(email: str, name: str, role: str, password: str) -> User:
    """Create a staff user; a rep also gets the profile routing reads."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    user = User(email=email.strip().lower(), name=name.strip(), role=role)
    user.set_password(password)
    if role == "rep":
        user.rep_profile = RepProfile(countries=[], segments=[])
    db.session.add(user)
    return user
