"""/api/v1/registrations/<id>/approve and /decline: staff decide on registrations that an
event's `requires_approval` left pending."""

from __future__ import annotations

from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.schemas.registrations import RegistrationDetail
from app.registrations import approval
from app.registrations.models import Registration

blp = ApiBlueprint(
    "Approval",
    __name__,
    url_prefix="/api/v1/registrations",
    description="Approving or declining registrations for events that require approval.",
)


@blp.route("/<int:registration_id>/approve", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(200, RegistrationDetail)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def approve(registration_id: int) -> Registration:
    """Approve a `pending_approval` registration: `confirmed` (its confirmation and calendar
    invite are emailed), or `waitlisted` when it held no seat and none is free.

    Refused with 409 when the registration is not pending approval, or when there is no free
    seat and the event keeps no waitlist.
    """
    return approval.approve(registration_id)


@blp.route("/<int:registration_id>/decline", methods=["POST"])
@blp.allow(*MANAGERS)
@blp.response(200, RegistrationDetail)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def decline(registration_id: int) -> Registration:
    """Decline a `pending_approval` registration: `declined`, told by a polite email; a seat it
    held goes to the first on the waitlist.

    Refused with 409 when the registration is not pending approval.
    """
    return approval.decline(registration_id)
