"""What registrants are told, and when: receivers of the registration and event signals,
each queueing its messages through the outbox door inside the very transaction that changed
the registration or the event (they never commit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.db import db, utcnow
from app.events import signals as event_signals
from app.events.models import Event
from app.events.services import SCHEDULE_FIELDS
from app.mail.models import OutboxMessage
from app.mail.outbox import (
    cancel_draft,
    note_draft,
    queue,
    queue_for_registrants,
    request_draft,
    stamp,
)
from app.privacy import signals as privacy_signals
from app.registrations import signals as registration_signals
from app.registrations.models import ON_DEMAND, Registration

# A registration in this state holds a calendar entry its cancel must withdraw; a seat
# waiting for payment has had no invite yet.
HOLDS_INVITE = ("confirmed",)
# Who is told of a change to a live event's time, place or join link: a seat's holder with a
# new invite, the waitlist with a note. The console's confirm step counts the same people.
UPDATE_WITH_INVITE = ("confirmed",)
UPDATE_AS_NOTE = ("waitlisted",)
# Double opt-in: one registration gets at most this many verification letters (the first and
# re-sends when the same address registers again), so the form cannot flood a mailbox.
VERIFICATION_LETTERS = 3


def connect() -> None:
    """Connect the receivers (once per process; blinker ignores a second connection)."""
    registration_signals.registered.connect(on_registered, weak=False)
    registration_signals.promoted.connect(on_promoted, weak=False)
    registration_signals.cancelled.connect(on_cancelled, weak=False)
    registration_signals.link_requested.connect(on_link_requested, weak=False)
    registration_signals.declined.connect(on_declined, weak=False)
    event_signals.event_changed.connect(on_event_changed, weak=False)
    event_signals.event_cancelled.connect(on_event_cancelled, weak=False)
    privacy_signals.erasure_requested.connect(on_erasure_requested, weak=False)


def on_registered(registration: Registration, **_: Any) -> None:
    # A pending payment is told by the payment flow; its confirmation comes when it is paid
    # (send `registered` again then: the seat key makes a second announcement harmless).
    if registration.status == "confirmed":
        queue([request_draft("confirmation", registration, seat_key(registration))])
    elif registration.status == "waitlisted":
        key = f"waitlisted:reg:{registration.id}:{stamp(registration.created_at)}"
        queue([note_draft("waitlisted", registration, key)])
    elif registration.status == "unverified":
        # Double opt-in: only the link to verify the address; the confirmation follows it.
        queue([note_draft("verification", registration, verification_key(registration, 0))])
    elif registration.status == "pending_approval":
        # "We'll confirm shortly"; the confirmation and invite follow the approval.
        key = f"approval-pending:reg:{registration.id}:{stamp(registration.created_at)}"
        queue([note_draft("approval_pending", registration, key)])
    elif registration.status == ON_DEMAND:
        # They are sent on to the recording at once; the letter keeps their tracked link.
        key = f"replay:reg:{registration.id}:{stamp(registration.created_at)}"
        queue([note_draft("replay", registration, key)])


def on_declined(registration: Registration, **_: Any) -> None:
    # A pending registration had no invite, so a polite note withdraws nothing.
    key = f"declined:reg:{registration.id}:{stamp(registration.created_at)}"
    queue([note_draft("declined", registration, key)])


def resend_verification(registration: Registration) -> None:
    """Someone registered an unverified address again: its verification link is sent again,
    a few times at most per registration."""
    prefix = verification_key(registration, 0).rsplit(":", 1)[0] + ":"
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
    )
    if (sent or 0) < VERIFICATION_LETTERS:
        # Two at once compute the same key, and the second adds nothing.
        queue([note_draft("verification", registration, verification_key(registration, sent or 0))])


def verification_key(registration: Registration, number: int) -> str:
    """The key of the `number`th verification letter (0: the first) of this registration's
    life (a registration made again after a cancel starts anew)."""
    return f"verification:reg:{registration.id}:{stamp(registration.created_at)}:{number}"


def on_promoted(registration: Registration, **_: Any) -> None:
    if registration.status == "confirmed":
        queue([request_draft("promoted", registration, seat_key(registration))])
    elif registration.status == "pending_payment":
        # The seat is held for them until they pay; the invite comes with the confirmation.
        key = f"payment-due:reg:{registration.id}:{stamp(registration.hold_expires_at or utcnow())}"
        queue([note_draft("payment_due", registration, key)])


def seat_key(registration: Registration) -> str:
    """The key of the one message saying "you have a seat" (a confirmation, or a promotion
    from the waitlist) per registration; a registration made again after a cancel starts
    anew (its created_at is the moment of the new registration)."""
    return f"seat:reg:{registration.id}:{stamp(registration.created_at)}"


def on_cancelled(
    registration: Registration,
    previous_status: str,
    by: str = "registrant",
    message: str | None = None,
    **_: Any,
) -> None:
    if registration.event.status == "cancelled":
        return  # the event's own cancellation has told them
    if by == "payment":
        return  # a hold never paid: the buyer saw it on Stripe's page, or a refund mail says so
    if previous_status == "unverified":
        return  # never confirmed (expired, or cancelled from the manage page): nothing to undo
    key = f"cancellation:reg:{registration.id}:{stamp(registration.cancelled_at or utcnow())}"
    # Staff's cancel is told as theirs, with their words: not "Changed your mind?".
    context = {"previous_status": previous_status, "by": by, "message": message}
    if previous_status in HOLDS_INVITE:
        draft = cancel_draft("cancellation", registration, key, **context)
    else:
        draft = note_draft("cancellation", registration, key, **context)
    queue([draft])


def on_link_requested(registration: Registration, **_: Any) -> None:
    """Someone registered this email again: the stored address (never the visitor) gets its
    manage link, a few times an hour at most, so the form cannot be used to flood a mailbox.

    The caller holds the registration's row lock, so concurrent requests count each other.
    An unverified registration (double opt-in) gets its verification link instead: the manage
    page would only ask for it.
    """
    if registration.status == "unverified":
        resend_verification(registration)
        return
    now = utcnow()
    already = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.registration_id == registration.id,
            OutboxMessage.kind == "manage_link",
            OutboxMessage.created_at > now - timedelta(hours=1),
        )
    )
    if (already or 0) >= current_app.config["MANAGE_LINK_EMAILS_PER_HOUR"]:
        return
    queue(
        [note_draft("manage_link", registration, f"manage-link:reg:{registration.id}:{stamp(now)}")]
    )


def update_audience(event: Event) -> int:
    """How many registrants a change to `event`'s time, place or join link emails now."""
    return (
        db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.event_id == event.id,
                Registration.status.in_((*UPDATE_WITH_INVITE, *UPDATE_AS_NOTE)),
            )
        )
        or 0
    )


def on_event_changed(
    event: Event, changed: set[str], before: dict[str, Any] | None = None, **_: Any
) -> None:
    if event.status != "published" or not changed & set(SCHEDULE_FIELDS):
        return
    context: dict[str, Any] = {"changed": sorted(changed)}
    if before and ({"starts_at", "duration_minutes"} & changed):
        # Kept as values (the row keeps JSON), put in words when each registrant's letter is
        # written, in their own language (`app.mail.letters.old_schedule`).
        context["was_starts_at"] = before["starts_at"].isoformat()
        context["was_duration_minutes"] = before["duration_minutes"]
    # updated_at marks this version of the event: the same change announced twice is one row.
    key = ("update:reg:", f":{stamp(event.updated_at)}")
    queue_for_registrants(
        event, "update", key=key, statuses=UPDATE_WITH_INVITE, method="REQUEST", context=context
    )
    queue_for_registrants(event, "update", key=key, statuses=UPDATE_AS_NOTE, context=context)


def on_event_cancelled(event: Event, message: str | None = None, **_: Any) -> None:
    key = ("event-cancelled:reg:", "")
    context = {"message": message}
    queue_for_registrants(
        event,
        "event_cancelled",
        key=key,
        statuses=HOLDS_INVITE,
        method="CANCEL",
        context=context,
    )
    queue_for_registrants(
        event,
        "event_cancelled",
        key=key,
        statuses=("waitlisted", "pending_payment", "pending_approval"),
        context=context,
    )


def on_erasure_requested(registration: Registration, *, url: str, **_: Any) -> None:
    """The registrant asked to be erased: the stored address gets the confirming link (at
    most one a minute, so the button cannot flood a mailbox)."""
    key = f"erasure-request:reg:{registration.id}:{utcnow():%Y%m%dT%H%M}"
    queue([note_draft("erasure_request", registration, key, erase_url=url)])
