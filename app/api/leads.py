"""/api/v1/leads: the people who registered, one lead per email; a rep sees only their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from app.api import auth
from app.api.auth import STAFF
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.lists import Page, paginate
from app.api.schemas.leads import LeadListArgs, LeadOut, LeadPage
from app.db import db
from app.events.models import Event
from app.models import User
from app.registrations.models import Lead, Registration
from app.registrations.search import lead_matches, search_text

blp = ApiBlueprint(
    "Leads", __name__, url_prefix="/api/v1/leads", description="Registrants as sales leads."
)


def _visible_leads() -> Select[tuple[Lead]]:
    user = auth.require(STAFF)
    statement = select(Lead)
    if user.role == "rep":
        statement = statement.where(Lead.owner_id == user.id)
    return statement


def shown(leads: Sequence[Lead]) -> list[dict[str, Any]]:
    """Leads with their owner's email and event slugs, in two queries for the whole page."""
    ids = [lead.id for lead in leads]
    owner_ids = {lead.owner_id for lead in leads if lead.owner_id is not None}
    owners = {
        user_id: email
        for user_id, email in db.session.execute(
            select(User.id, User.email).where(User.id.in_(owner_ids))
        )
    }
    slugs: dict[int, list[str]] = {lead_id: [] for lead_id in ids}
    for lead_id, slug in db.session.execute(
        select(Registration.lead_id, Event.slug)
        .join(Event, Registration.event_id == Event.id)
        .where(Registration.lead_id.in_(ids))
        .order_by(Registration.created_at, Registration.id)
    ):
        slugs[lead_id].append(slug)
    return [
        {
            "id": lead.id,
            "email": lead.email,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "company": lead.company,
            "job_title": lead.job_title,
            "country": lead.country,
            "owner": owners.get(lead.owner_id) if lead.owner_id else None,
            "status": lead.status,
            "score": lead.score,
            "events": slugs[lead.id],
        }
        for lead in leads
    ]


@blp.route("", methods=["GET"])
@blp.allow(*STAFF)
@blp.arguments(LeadListArgs, location="query")
@blp.response(200, LeadPage)
def list_leads(args: dict[str, Any]) -> Page:
    """List leads, oldest first: a rep's own, or all of them for admins and marketers."""
    statement = _visible_leads().order_by(Lead.id)
    if args.get("status"):
        statement = statement.where(Lead.status == args["status"])
    if text := search_text(args.get("q")):
        statement = statement.where(lead_matches(text))
    page = paginate(statement, args)
    page.items = shown(page.items)
    return page


@blp.route("/<int(max=2147483647):lead_id>", methods=["GET"])
@blp.allow(*STAFF)
@blp.response(200, LeadOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_lead(lead_id: int) -> dict[str, Any]:
    """Read one lead; another rep's lead is not found, as if it did not exist."""
    lead = db.session.scalar(_visible_leads().where(Lead.id == lead_id))
    if lead is None:
        fail(404, f"There is no lead {lead_id}.")
    return shown([lead])[0]
