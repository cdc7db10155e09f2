"""POST /api/v1/events/<slug>/personal-links: personal links to an event's page for a list of
emails, as the console's CSV upload makes them (emails not yet leads become leads)."""

from __future__ import annotations

from typing import Any

from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.events import event_or_404
from app.api.schemas.personal_links import PersonalLinksIn, PersonalLinksOut
from app.registrations import invitation_lists

blp = ApiBlueprint(
    "Personal links",
    __name__,
    url_prefix="/api/v1/events",
    description="Signed links per lead for invitations sent from a marketing tool.",
)


@blp.route("/<slug>/personal-links", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.arguments(PersonalLinksIn)
@blp.response(200, PersonalLinksOut)
@blp.alt_response(404, response="NOT_FOUND")
def make_personal_links(values: dict[str, Any], slug: str) -> dict[str, Any]:
    """Each email's personal link to the event's landing page, in the order given (an email
    given twice answers once). An email that is not a lead yet becomes one, so every row
    has a link (`new_lead` says which); one that is not an address is refused with 422
    naming `emails.<index>`."""
    event = event_or_404(slug)
    rows = invitation_lists.personal_links(invitation_lists.listed(values["emails"]), event.slug)
    return {
        "items": rows,
        "total": len(rows),
        "new_leads": sum(row.new_lead for row in rows),
    }
