"""/api/v1/events/<slug>/source-links: an event's named tracking links, kept by admins and
marketers through the source links service (the console makes the same ones)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.events import event_or_404
from app.api.lists import Page, paginate
from app.api.schemas.common import ListArgs
from app.api.schemas.source_links import (
    SourceLinkIn,
    SourceLinkOut,
    SourceLinkPage,
    SourceLinkPatch,
)
from app.registrations import source_links
from app.registrations.models import SourceLink

blp = ApiBlueprint(
    "Source links",
    __name__,
    url_prefix="/api/v1/events",
    description="Named tracking links per event and channel, counted in the event's report.",
)


def _link(slug: str, code: str) -> SourceLink:
    link = source_links.find(event_or_404(slug).id, code)
    if link is None:
        fail(404, f"The event {slug!r} has no source link {code!r}.")
    return link


@blp.route("/<slug>/source-links", methods=["GET"])
@blp.allow(*MANAGERS)
@blp.arguments(ListArgs, location="query")
@blp.response(200, SourceLinkPage)
@blp.alt_response(404, response="NOT_FOUND")
def list_source_links(args: dict[str, Any], slug: str) -> Page:
    """List an event's source links, oldest first, with their visit counts."""
    event = event_or_404(slug)
    statement = select(SourceLink).where(SourceLink.event_id == event.id).order_by(SourceLink.id)
    return paginate(statement, args)


@blp.route("/<slug>/source-links", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.arguments(SourceLinkIn)
@blp.response(201, SourceLinkOut)
@blp.alt_response(404, response="NOT_FOUND")
def create_source_link(values: dict[str, Any], slug: str) -> SourceLink:
    """Make a link; its `code` is chosen here and never changes."""
    return source_links.create_link(event_or_404(slug).id, values)


@blp.route("/<slug>/source-links/<code>", methods=["GET"])
@blp.allow(*MANAGERS)
@blp.response(200, SourceLinkOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_source_link(slug: str, code: str) -> SourceLink:
    return _link(slug, code)


@blp.route("/<slug>/source-links/<code>", methods=["PATCH"])
@blp.allow(*MANAGERS)
@blp.arguments(SourceLinkPatch(partial=True))
@blp.response(200, SourceLinkOut)
@blp.alt_response(404, response="NOT_FOUND")
def change_source_link(values: dict[str, Any], slug: str, code: str) -> SourceLink:
    """Change some of a link's fields; its address stays the same. Registrations that came
    through it keep the utm values they were given."""
    return source_links.change_link(_link(slug, code), values)


@blp.route("/<slug>/source-links/<code>", methods=["DELETE"])
@blp.allow(*MANAGERS)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_source_link(slug: str, code: str) -> None:
    """Remove a link; its registrations keep their utm values, and its address then opens
    the plain landing page."""
    source_links.delete_link(_link(slug, code))
