"""/api/v1/events: list, create, read, change and cancel events through the events service."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from sqlalchemy import select

from app.api import auth
from app.api.auth import MANAGERS, STAFF
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.lists import paginate
from app.api.schemas.events import (
    EventIn,
    EventListArgs,
    EventOut,
    EventPage,
    EventPatch,
    PublicEventPage,
)
from app.events import services
from app.events.models import Event

blp = ApiBlueprint(
    "Events", __name__, url_prefix="/api/v1/events", description="Webinars and other events."
)


def find_event(slug: str) -> Event | None:
    return services.by_slug(slug)


def event_or_404(slug: str) -> Event:
    event = find_event(slug)
    if event is None:
        fail(404, f"There is no event with the slug {slug!r}.")
    return event


# The list has two shapes, told apart by `join_url`: only a staff token's answer carries it.
# anyOf, not oneOf: an empty page is both.
LIST_SHAPES = {
    "anyOf": [
        {"$ref": "#/components/schemas/EventPage"},
        {"$ref": "#/components/schemas/PublicEventPage"},
    ]
}


@blp.route("", methods=["GET"])
@blp.allow(anyone=True)
@blp.arguments(EventListArgs, location="query")
@blp.response(
    200,
    LIST_SHAPES,
    description="`EventPage` for a staff token; `PublicEventPage` (no `join_url`) for anyone "
    "else: the join link reaches registrants only.",
)
def list_events(args: dict[str, Any]) -> Response:
    """List events: published ones, or every event for a staff token."""
    statement = select(Event).order_by(Event.starts_at, Event.id)
    public = auth.caller() is None
    if public:
        statement = statement.where(Event.status == "published")
    if args.get("status"):
        statement = statement.where(Event.status == args["status"])
    shape = PublicEventPage() if public else EventPage()
    return jsonify(shape.dump(paginate(statement, args)))


@blp.route("", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.arguments(EventIn)
@blp.response(201, EventOut)
def create_event(values: dict[str, Any]) -> Event:
    """Create an event: a draft, or published at once with `status: published`.

    Refused with 422 naming the field, beyond what the schema says: a slug another event
    uses, a capacity below the seats already taken, registration closing after the end,
    publishing a paid event before Stripe is configured, publishing without a join link
    or location (or a webinar platform), `double_opt_in` or `requires_approval` on a paid event,
    a `platform` without a `platform_webinar_id` (or the other way round), or an
    `embed_origins` entry that is not an https:// origin (http:// only for localhost).
    """
    # `status` goes to create_event itself, which judges it by the same rules as update_event
    # but in the one transaction, so a refused publication leaves no draft behind.
    return services.create_event(values)


@blp.route("/<slug>", methods=["GET"])
@blp.allow(*STAFF)
@blp.response(200, EventOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_event(slug: str) -> Event:
    """Read one event, in any status."""
    return event_or_404(slug)


@blp.route("/<slug>", methods=["PATCH"])
@blp.allow(*MANAGERS)
@blp.arguments(EventPatch(partial=True))
@blp.response(200, EventOut)
@blp.alt_response(404, response="NOT_FOUND")
def change_event(values: dict[str, Any], slug: str) -> Event:
    """Change some of an event's fields; a new time or place re-issues every invite.

    Refused with 422 naming the field, beyond what the schema says: a slug another event
    uses, a capacity below the seats already taken, registration closing after the end,
    publishing a paid event before Stripe is configured, publishing without a join link
    or location (or a webinar platform), `double_opt_in` or `requires_approval` on a paid event,
    a `platform` without a `platform_webinar_id` (or the other way round), or an
    `embed_origins` entry that is not an https:// origin (http:// only for localhost). A
    cancelled event cannot be changed back.
    """
    event = event_or_404(slug)
    return services.update_event(event, values)


@blp.route("/<slug>/cancel", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(200, EventOut)
@blp.alt_response(404, response="NOT_FOUND")
def cancel_event(slug: str) -> Event:
    """Cancel an event for good: every registrant is told and paid seats are refunded."""
    return services.cancel_event(event_or_404(slug))
