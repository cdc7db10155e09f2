"""/api/v1/reps: the sales reps routing hands leads to (admin only), through the staff service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.api import auth
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.lists import Page, paginate
from app.api.schemas.common import ListArgs
from app.api.schemas.reps import RepIn, RepOut, RepPage, RepPatch
from app.auth import staff
from app.db import db
from app.models import RepProfile, User

blp = ApiBlueprint("Reps", __name__, url_prefix="/api/v1/reps", description="Sales reps.")

ADMIN = ("admin",)
PROFILE_FIELDS = ("countries", "segments", "weight", "capacity", "active", "meeting_url")
TAKEN = "Another staff user already has this email."


def shown(user: User) -> dict[str, Any]:
    profile = user.rep_profile
    assert profile is not None
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "countries": profile.countries,
        "segments": profile.segments,
        "weight": profile.weight,
        "capacity": profile.capacity,
        "active": profile.active,
        "meeting_url": profile.meeting_url,
    }


def _reps() -> Any:
    return (
        select(User)
        .join(RepProfile, RepProfile.user_id == User.id)
        .where(User.role == "rep")
        .options(contains_eager(User.rep_profile))
    )


def _email_taken(email: str, other_than: int | None = None) -> bool:
    statement = select(User.id).where(func.lower(User.email) == email.lower())
    if other_than is not None:
        statement = statement.where(User.id != other_than)
    return db.session.scalar(statement) is not None


def _profile_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in PROFILE_FIELDS if name in values}


@blp.route("", methods=["GET"])
@blp.allow(*ADMIN)
@blp.arguments(ListArgs, location="query")
@blp.response(200, RepPage)
def list_reps(args: dict[str, Any]) -> Page:
    """List reps in the order they were added."""
    page = paginate(_reps().order_by(User.id), args)
    page.items = [shown(user) for user in page.items]
    return page


@blp.route("", methods=["POST"])
@blp.allow(*ADMIN)
@blp.arguments(RepIn)
@blp.response(201, RepOut)
@blp.alt_response(409, response="CONFLICT")
def create_rep(values: dict[str, Any]) -> dict[str, Any]:
    """Add a rep: a staff user with the rep role, and the profile routing reads."""
    if _email_taken(values["email"]):
        fail(409, TAKEN, {"email": TAKEN})
    # Refused before anything is made, so no half-made rep and no invitation to nobody.
    profile = staff.clean_rep_profile(_profile_values(values))
    # No password: like a rep added in the console, they set their own through the emailed
    # invitation, queued in the same commit as the account.
    user = staff.add_staff(
        values["email"], values["name"], "rep", None, invite=True, invited_by=auth.require(ADMIN)
    )
    assert user.rep_profile is not None
    staff.update_rep_profile(user.rep_profile, profile)
    return shown(user)


@blp.route("/<int(max=2147483647):rep_id>", methods=["PATCH"])
@blp.allow(*ADMIN)
@blp.arguments(RepPatch(partial=True))
@blp.response(200, RepOut)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def change_rep(values: dict[str, Any], rep_id: int) -> dict[str, Any]:
    """Change some of a rep's fields."""
    user = db.session.scalar(_reps().where(User.id == rep_id))
    if user is None:
        fail(404, f"There is no rep {rep_id}.")
    email = values.get("email", user.email).lower()
    if email != user.email and _email_taken(email, other_than=user.id):
        fail(409, TAKEN, {"email": TAKEN})
    assert user.rep_profile is not None
    try:
        # The profile first: it is where a value can still be refused, and then nothing changed.
        if profile_values := _profile_values(values):
            staff.update_rep_profile(user.rep_profile, profile_values)
        if email != user.email or "name" in values:
            # Stored in lower case, as `create_user` stores it, so logins match in any case.
            user.email = email
            staff.change_staff(
                user,
                acting=auth.require(ADMIN),
                name=values.get("name", user.name),
                role=user.role,
                active=user.active,
            )
    except IntegrityError:
        db.session.rollback()
        fail(409, TAKEN, {"email": TAKEN})
    return shown(user)
