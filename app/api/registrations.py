"""/api/v1/events/<slug>/registrations: register (public) and list registrations (staff)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import auth, idempotency
from app.api.auth import MANAGERS
from app.api.blueprint import ApiBlueprint
from app.api.cors import allow_embedding_origins
from app.api.errors import fail
from app.api.events import event_or_404, find_event
from app.api.lists import Page, paginate
from app.api.schemas.registrations import (
    RegistrationIn,
    RegistrationListArgs,
    RegistrationOut,
    RegistrationPage,
)
from app.extensions import limiter
from app.payments.checkout import checkout_url
from app.registrations import services
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.search import registration_matches, search_text

blp = ApiBlueprint(
    "Registrations",
    __name__,
    url_prefix="/api/v1/events",
    description="Seats, waitlist places and payment holds for an event.",
)
blp.after_request(allow_embedding_origins)

IDEMPOTENCY_KEY = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    # The rule the call checks, so the document promises no key it refuses.
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": idempotency.KEY_PATTERN,
    },
    "description": "Any unique string of visible ASCII characters (a UUID): a retry with the "
    "same key and the same body "
    "within 24 hours (`IDEMPOTENCY_KEY_HOURS`) gets the first answer again, manage link "
    "included, with `Idempotent-Replayed: true`; keys are the caller's own (a token's user, "
    "or the client's address without a token).",
}


def _rate() -> str:
    return str(current_app.config["API_REGISTRATION_RATE_LIMIT"])


@blp.route("/<slug>/registrations", methods=["POST"])
@limiter.limit(_rate)
@blp.allow(anyone=True)
@idempotency.idempotent
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@blp.arguments(RegistrationIn)
@blp.response(
    201,
    RegistrationOut,
    description="Registered now. A retry with the same `Idempotency-Key` and body answers "
    "this again, with the header `Idempotent-Replayed: true`.",
)
@blp.alt_response(
    200,
    schema=RegistrationOut,
    description="This email was already registered: the same registration, unchanged. "
    "Without a manager's token `manage_url` and `checkout_url` are null, and the stored "
    "address is emailed its manage link instead. An admin's or marketer's token gets the "
    "registration with its links: how an integration that lost an answer without sending "
    "an `Idempotency-Key` finds what it made.",
    success=True,
)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(
    409,
    response="CONFLICT",
    description="The event is closed or full without a waitlist; or the first request with "
    "this `Idempotency-Key` is still being carried out (`Retry-After` says when to ask again).",
)
@blp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="Some fields are not valid (`fields` names each); or this `Idempotency-Key` "
    "was already used with another body (`fields` names `Idempotency-Key`).",
)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def register(person: services.Registrant, slug: str) -> tuple[dict[str, Any], int]:
    """Register a person for a published event (emails match without regard to case).

    Refused with 422 naming the field, beyond what the schema says: an `answers` key that is
    not 1 to 100 printable characters, a `phone` that is not a possible number (with its
    country code, or local to `country`), or an `email` at a disposable-address domain. When
    the event has questions (GET /api/v1/events/<slug>/questions), `answers` is checked
    against them as the landing form is: a missing required answer of a question asked, an
    option not offered, a wrong type or a key that is no question is refused naming
    `answers.<key>`; the answer to a question its `show_if` does not ask is dropped.
    """
    event = find_event(slug)
    if event is None or event.status == "draft":
        fail(404, f"There is no open event with the slug {slug!r}.")
    user = auth.caller()
    # Anyone can type someone else's address, and the manage link cancels the seat: a public
    # caller is told only that the address is registered, and the stored address is emailed
    # its link (as the landing form does). Staff who may read registrations get it here.
    manager = user is not None and user.role in MANAGERS
    if (earlier := idempotency.earlier_registration()) is not None:
        # This key's first attempt registered the person, then lost its answer (the database
        # went away before it could be kept): the retry gives the answer it should have had.
        outcome = services.Outcome(earlier, created=True)
    elif manager:
        outcome = services.register(event.id, person)
    else:
        outcome = services.register_publicly(event.id, person)
    registration = outcome.registration
    show_link = outcome.created or manager
    checkout = None
    if registration.status == "pending_payment" and show_link:
        # Refused with 503 when Stripe cannot open one: the hold is released, and the caller
        # may try again.
        checkout = checkout_url(registration.id)
    body = {
        "id": registration.id,
        "status": registration.status,
        "manage_url": manage_url(registration) if show_link else None,
        # A paid seat is held until this Stripe Checkout is paid (or expires).
        "checkout_url": checkout,
        "created_at": registration.created_at,
    }
    return body, 201 if outcome.created else 200


@blp.route("/<slug>/registrations", methods=["GET"])
@blp.allow(*MANAGERS)
@blp.arguments(RegistrationListArgs, location="query")
@blp.response(200, RegistrationPage)
@blp.alt_response(404, response="NOT_FOUND")
def list_registrations(args: dict[str, Any], slug: str) -> Page:
    """List an event's registrations, oldest first."""
    event = event_or_404(slug)
    statement = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at, Registration.id)
        .options(selectinload(Registration.source_link))
    )
    if args.get("status"):
        statement = statement.where(Registration.status == args["status"])
    if text := search_text(args.get("q")):
        statement = statement.where(registration_matches(text))
    return paginate(statement, args)
