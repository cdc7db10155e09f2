"""/api/v1/followups and the routing call: a rep's follow-ups (another rep's answer 404), the
rep's verdict, and routing an event's follow-up on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import joinedload

from app.api import auth
from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.events import find_event
from app.api.leads import shown
from app.api.lists import Page, paginate
from app.api.schemas.followups import (
    FollowUpListArgs,
    FollowUpOut,
    FollowUpPage,
    FollowUpPatch,
    RoutingOut,
)
from app.followup.models import FollowUp
from app.followup.routing import route_followups
from app.followup.services import (
    ListFilter,
    find_visible,
    list_query,
    update_followup,
)
from app.models import FOLLOWUP_ROLES, User

blp = ApiBlueprint(
    "Follow-ups",
    __name__,
    url_prefix="/api/v1",
    description="Sales follow-up after an event: who works which lead, and the outcome.",
)


def shown_followups(followups: Sequence[FollowUp]) -> list[dict[str, Any]]:
    leads = {lead["id"]: lead for lead in shown([f.lead for f in followups])}
    return [
        {
            "id": f.id,
            "lead": leads[f.lead_id],
            "event": f.event.slug,
            "rep": f.rep.email if f.rep is not None else None,
            "status": f.status,
            "priority": f.priority,
            "due_at": f.due_at,
            "why": f.why,
            "attended_minutes": f.attended_minutes,
            "on_demand": f.registration is not None and f.registration.watched_on_demand,
            "reason": f.reason,
            "first_contacted_at": f.first_contacted_at,
        }
        for f in followups
    ]


def _with_rows(statement: Any) -> Any:
    return statement.options(
        joinedload(FollowUp.lead),
        joinedload(FollowUp.event),
        joinedload(FollowUp.rep),
        joinedload(FollowUp.registration),
    )


@blp.route("/followups", methods=["GET"])
@blp.allow(*FOLLOWUP_ROLES)
@blp.arguments(FollowUpListArgs, location="query")
@blp.response(200, FollowUpPage)
def list_followups(args: dict[str, Any]) -> Page:
    """List follow-ups most urgent first (priority, then due time): a rep's own, or all for
    admins."""
    user: User = auth.require(FOLLOWUP_ROLES)
    flt = ListFilter(
        status=args.get("status") or "open",
        priority=args.get("priority"),
        event_slug=args.get("event"),
    )
    page = paginate(_with_rows(list_query(user, flt)), args)
    page.items = shown_followups(page.items)
    return page


@blp.route("/followups/<int(max=2147483647):followup_id>", methods=["GET"])
@blp.allow(*FOLLOWUP_ROLES)
@blp.response(200, FollowUpOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_followup(followup_id: int) -> dict[str, Any]:
    """Read one follow-up; another rep's is not found, as if it did not exist."""
    return shown_followups([_visible_or_404(followup_id)])[0]


@blp.route("/followups/<int(max=2147483647):followup_id>", methods=["PATCH"])
@blp.allow(*FOLLOWUP_ROLES)
@blp.arguments(FollowUpPatch)
@blp.response(200, FollowUpOut)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def patch_followup(values: dict[str, Any], followup_id: int) -> dict[str, Any]:
    """Record the rep's verdict (`status`; `reason` is required for `disqualified`) and/or add
    a `note`. The lead's status and score follow the verdict.

    Refused with 422 naming the field: a `reason` with any other status, `other` without
    `reason_note` (or a note), or neither a status nor a note.
    """
    user: User = auth.require(FOLLOWUP_ROLES)
    _visible_or_404(followup_id)
    try:
        update_followup(followup_id, user, values)
    except LookupError:
        fail(404, f"There is no follow-up {followup_id}.")
    return shown_followups([_visible_or_404(followup_id)])[0]


def _visible_or_404(followup_id: int) -> FollowUp:
    user: User = auth.require(FOLLOWUP_ROLES)
    followup = find_visible(user, followup_id)
    if followup is None:
        fail(404, f"There is no follow-up {followup_id}.")
    return followup


@blp.route("/events/<slug>/followups", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(200, RoutingOut)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def route_event(slug: str) -> dict[str, Any]:
    """Route follow-up for an event that has ended; a second call creates no duplicates."""
    user: User = auth.require(MANAGERS)
    event = find_event(slug)
    if event is None:
        fail(404, f"There is no event with the slug {slug!r}.")
    result = route_followups(event.id, trigger="api", actor_id=user.id)
    return {"created": result.created, "by_rep": result.by_rep}
