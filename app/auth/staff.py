"""Staff accounts and rep profiles: signing in, adding staff, roles, and what routing reads.

The console, the API and the command line call these, so each rule is written once.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app import fields
from app.auth import sessions
from app.db import column_length, db
from app.models import ROLES, RepProfile, User, create_user
from app.refusals import Refusal

MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = column_length(User, "name")
MAX_WEIGHT = 100
# A meeting link is shown to registrants as a link: only web addresses, never javascript: or
# data:, and no spaces or control characters.
_MEETING_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*$", re.IGNORECASE)


class StaffRejected(Refusal):
    """A change to a staff user, a rep profile or an API token that breaks a rule."""


@cache
def _decoy_hash() -> str:
    return generate_password_hash("not a real password", method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    An unknown email still costs one scrypt check, so the answer time does not reveal
    which addresses have accounts.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def password_problem(password: str) -> str | None:
    """Why a new password will not do, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    return None


def add_staff(
    email: str,
    name: str,
    role: str,
    password: str | None,
    *,
    invite: bool = False,
    invited_by: User | None = None,
) -> User:
    """Create a staff user (a rep also gets a rep profile) and commit.

    Without a password the account gets one nobody knows: only the emailed invitation's
    set-your-password link (`invite`, sent in the same commit) lets them in.
    """
    problems: dict[str, str] = {}
    try:
        email, _ = fields.normalize_email(email)
    except fields.InvalidValue as exc:
        problems["email"] = str(exc)
    if why := _name_problem(name):
        problems["name"] = why
    if role not in ROLES:
        problems["role"] = f"Choose one of: {', '.join(ROLES)}."
    if password and (why := password_problem(password)):
        problems["password"] = why
    if not password and not invite:
        problems["password"] = "Choose a first password, or send an invitation."  # noqa: S105
    if not problems and _email_taken(email):
        problems["email"] = "A staff user with this email already exists."
    if problems:
        raise StaffRejected(fields=problems)
    user = create_user(email, name, role, password or secrets.token_urlsafe(32))
    from app.auth import passwords  # imports this module for its rules

    try:
        if invite:
            # The account and its invitation exist together or not at all.
            passwords.queue_invitation(user, invited_by=invited_by)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise StaffRejected(
            fields={"email": "A staff user with this email already exists."}
        ) from None
    return user


def change_staff(
    user: User,
    *,
    acting: User,
    name: str,
    role: str,
    active: bool,
    password: str | None = None,
) -> User:
    """Rename, change the role of, (de)activate or set a new password for a staff user.

    There is always one active admin left, and nobody locks themselves out. A new password
    or a deactivation ends every session of the user (the console starts a fresh one for an
    admin who changed their own password); a deactivation also revokes their API tokens.
    """
    problems: dict[str, str] = {}
    if password is not None and (why := password_problem(password)):
        problems["password"] = why
    if why := _name_problem(name):
        problems["name"] = why
    if role not in ROLES:
        problems["role"] = f"Choose one of: {', '.join(ROLES)}."
    if user.id == acting.id and not active:
        problems["active"] = "You cannot deactivate your own account."
    if user.id == acting.id and role != "admin":
        problems["role"] = "You cannot take away your own admin role; ask another admin."
    stays_admin = role == "admin" and active
    if user.role == "admin" and user.active and not stays_admin and _other_active_admins(user) == 0:
        problems.setdefault("role", "This is the last active admin; make someone else admin first.")
    if problems:
        raise StaffRejected(fields=problems)
    from app.auth import tokens  # imports this module for its refusal type

    # A new password or a deactivation logs the account out everywhere, in the same commit.
    if password is not None or (user.active and not active):
        sessions.end_all(user)
    if user.active and not active:
        # Reactivating an account later must not bring a token that leaked meanwhile back.
        tokens.revoke_all(user)
    user.name = name.strip()
    user.role = role
    user.active = active
    if password is not None:
        user.set_password(password)
    if role == "rep" and user.rep_profile is None:
        user.rep_profile = RepProfile(countries=[], segments=[])
    db.session.commit()
    return user


def update_rep_profile(profile: RepProfile, values: dict[str, Any]) -> RepProfile:
    """Change what routing knows about a rep; unknown countries or bad numbers change nothing.

    `values` may hold `countries` and `segments` (lists of strings), `weight`, `capacity`
    (None: no limit), `active`, `out_of_office_until` (a date or None), `timezone` and
    `meeting_url` (where registrants book time with the rep; empty or None: none).
    """
    for name, value in clean_rep_profile(values).items():
        setattr(profile, name, value)
    db.session.commit()
    return profile


def clean_rep_profile(values: dict[str, Any]) -> dict[str, Any]:
    """The rep profile `values` as `update_rep_profile` stores them; raises `StaffRejected`
    naming each field that will not do, so a caller can refuse before it makes anything."""
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "countries" in values:
        codes = []
        for raw in values["countries"]:
            try:
                codes.append(fields.country_code(raw))
            except fields.InvalidValue:
                problems["countries"] = (
                    f"{raw.strip()!r} is not a two-letter ISO 3166 country code (such as US, "
                    "DE or IN)."
                )
                break
        clean["countries"] = sorted(set(codes))
    if "segments" in values:
        segments = {" ".join(str(raw).split()).lower() for raw in values["segments"]}
        segments.discard("")
        if any(len(segment) > 60 for segment in segments):
            problems["segments"] = "Keep each segment under 60 characters."
        clean["segments"] = sorted(segments)
    if "weight" in values:
        weight = values["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT:
            problems["weight"] = f"Use a whole number from 1 to {MAX_WEIGHT}."
        clean["weight"] = weight
    if "capacity" in values:
        capacity = values["capacity"]
        if capacity is not None and (not isinstance(capacity, int) or capacity < 0):
            problems["capacity"] = "Use a whole number, 0 or more, or leave empty for no limit."
        clean["capacity"] = capacity
    if "out_of_office_until" in values:
        until = values["out_of_office_until"]
        if until is not None and not isinstance(until, date):
            problems["out_of_office_until"] = "Use a date such as 2026-12-24."
        clean["out_of_office_until"] = until
    if "timezone" in values:
        try:
            clean["timezone"] = fields.time_zone(values["timezone"] or "")
        except fields.InvalidValue as exc:
            problems["timezone"] = str(exc)
    if "active" in values:
        clean["active"] = bool(values["active"])
    if "meeting_url" in values:
        meeting = (values["meeting_url"] or "").strip()
        if meeting and not _MEETING_URL.match(meeting):
            problems["meeting_url"] = "Use a web address starting with https:// or http://."
        elif len(meeting) > 500:
            problems["meeting_url"] = "Keep the link under 500 characters."
        clean["meeting_url"] = meeting or None
    if problems:
        raise StaffRejected(fields=problems)
    return clean


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "Enter a name."
    # PostgreSQL cannot store NUL, and a line break in a name could end up in a mail header.
    if fields.CONTROL_IN_LINE.search(name):
        return "Use one line of plain text, without control characters."
    if len(name.strip()) > MAX_NAME_LENGTH:
        return f"Keep the name under {MAX_NAME_LENGTH + 1} characters."
    return None


def _email_taken(email: str) -> bool:
    return bool(db.session.scalar(select(User.id).where(User.email == email.lower())))


def _other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        )
        or 0
    )
