"""What registrants are told, and when: signal receivers that add outbox rows to the very
transaction that changed the registration or the event, so a message exists if and only if
its cause was committed.

Every row has a dedupe key naming its cause (the registration and the moment of the change),
so announcing the same change twice adds nothing. An invite-bearing row raises the
registration's invite SEQUENCE only when the row is new.

Every message is only recorded in the transaction, as an "unwritten" row saying what to
write; the worker composes it (`write_unwritten`) before it sends it. So a registration does
not hold the event's seat lock while templates and invites are rendered, and cancelling a
webinar with 10,000 registrants stays a quick request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, exists, func, literal, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import db, utcnow, writing
from app.events import signals as event_signals
from app.events.models import Event
from app.events.services import SCHEDULE_FIELDS
from app.mail.compose import Letter, compose, new_message_id, write
from app.mail.models import OutboxMessage
from app.pages import duration, local_time
from app.registrations import signals as registration_signals
from app.registrations.invites import personal_invite
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.registrations.opt_in import verify_url
from app.registrations.services import waitlist_position
from app.sender import Sender, current_sender

# A registration in this state holds a calendar entry its cancel must withdraw; a seat
# waiting for payment has had no invite yet.
HOLDS_INVITE = ("confirmed",)
# Unwritten rows are composed this many at a time.
CHUNK = 200
# Set on the session when rows were added; after the commit the worker is woken.
WAKE = "reserve_mail_wake_worker"
SENDER = "reserve_mail_sender"

SUBJECTS = {
    "confirmation": "You're registered: {title}",
    "waitlisted": "You're on the waitlist: {title}",
    "promoted": "A seat opened up, you're in: {title}",
    "update": "Updated: {title}",
    "cancellation": "Your registration is cancelled: {title}",
    "event_cancelled": "Cancelled: {title}",
    "reminder": "Starts in {lead}: {title}",
    "payment_due": "A seat opened up, complete your payment: {title}",
    "refunded": "Your payment was refunded: {title}",
    "manage_link": "Your registration link: {title}",
    "verification": "Confirm your registration: {title}",
}
# Double opt-in: one registration gets at most this many verification letters (the first and
# re-sends when the same address registers again), so the form cannot flood a mailbox.
VERIFICATION_LETTERS = 3


@dataclass
class Draft:
    """A message to one registrant: why it exists, to whom, and what the worker must write."""

    kind: str
    key: str
    registration: Registration
    method: str | None = None
    # The SEQUENCE the invite carries, saved on the registration if the row is new.
    sequence: int | None = None
    context: dict[str, Any] = field(default_factory=dict)


def connect() -> None:
    """Connect the receivers (once per process; blinker ignores a second connection)."""
    registration_signals.registered.connect(on_registered, weak=False)
    registration_signals.promoted.connect(on_promoted, weak=False)
    registration_signals.cancelled.connect(on_cancelled, weak=False)
    registration_signals.link_requested.connect(on_link_requested, weak=False)
    event_signals.event_changed.connect(on_event_changed, weak=False)
    event_signals.event_cancelled.connect(on_event_cancelled, weak=False)
    if not orm_event.contains(Session, "after_commit", _wake_after_commit):
        orm_event.listen(Session, "after_commit", _wake_after_commit)
        orm_event.listen(Session, "after_rollback", _forget)


# --- receivers: run inside the write transaction, never commit ---------------------------


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
    registration: Registration, previous_status: str, by: str = "registrant", **_: Any
) -> None:
    if registration.event.status == "cancelled":
        return  # the event's own cancellation has told them
    if by == "payment":
        return  # a hold never paid: the buyer saw it on Stripe's page, or a refund mail says so
    if previous_status == "unverified":
        return  # never confirmed (expired, or cancelled from the manage page): nothing to undo
    key = f"cancellation:reg:{registration.id}:{stamp(registration.cancelled_at or utcnow())}"
    if previous_status in HOLDS_INVITE:
        draft = cancel_draft("cancellation", registration, key, previous_status=previous_status)
    else:
        draft = note_draft("cancellation", registration, key, previous_status=previous_status)
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


def on_event_changed(event: Event, changed: set[str], **_: Any) -> None:
    if event.status != "published" or not changed & set(SCHEDULE_FIELDS):
        return
    # updated_at marks this version of the event: the same change announced twice is one row.
    queue_for_registrants(
        event,
        "update",
        key=("update:reg:", f":{stamp(event.updated_at)}"),
        statuses=("confirmed",),
        method="REQUEST",
        context={"changed": sorted(changed)},
    )


def on_event_cancelled(event: Event, **_: Any) -> None:
    key = ("event-cancelled:reg:", "")
    queue_for_registrants(event, "event_cancelled", key=key, statuses=HOLDS_INVITE, method="CANCEL")
    queue_for_registrants(
        event, "event_cancelled", key=key, statuses=("waitlisted", "pending_payment")
    )


# --- messages to one registrant ---------------------------------------------


def request_draft(kind: str, registration: Registration, key: str) -> Draft:
    """A message that puts the event in the registrant's calendar (METHOD:REQUEST).

    The first invite has SEQUENCE 0; one sent after an earlier invite (a re-registration
    after a cancel) must outrank that invite's CANCEL, so it goes one higher.
    """
    current = registration.invite_sequence
    sequence = current + 1 if current > 0 else 0
    return Draft(kind, key, registration, method="REQUEST", sequence=sequence)


def cancel_draft(kind: str, registration: Registration, key: str, **context: Any) -> Draft:
    """A message that takes the event out of the registrant's calendar (METHOD:CANCEL)."""
    sequence = registration.invite_sequence + 1
    return Draft(kind, key, registration, method="CANCEL", sequence=sequence, context=context)


def note_draft(kind: str, registration: Registration, key: str, **context: Any) -> Draft:
    """A message without an invite (the waitlist, leaving it)."""
    return Draft(kind, key, registration, context=context)


def queue(drafts: Iterable[Draft]) -> int:
    """Add the drafts to the outbox in the current transaction, as rows the worker writes.

    Composing (templates, the invite, MIME) happens in the worker, outside the write
    transaction that holds the event's seat lock. Returns how many rows were added; a draft
    whose dedupe key exists is dropped.
    """
    who = _sender()
    now = utcnow()
    drafts = list(drafts)
    rows = [
        _row(
            draft.key,
            draft.kind,
            draft.registration.id,
            draft.registration.event_id,
            draft.registration.email,
            now,
        )
        | {
            "message_id": new_message_id(who.domain),
            "subject": "",
            "status": "unwritten",
            "details": {
                "method": draft.method,
                "sequence": draft.sequence,
                "context": draft.context,
            },
        }
        for draft in drafts
    ]
    added = _insert_new(rows)
    for draft in drafts:
        if draft.key in added and draft.sequence is not None:
            draft.registration.invite_sequence = draft.sequence
    return len(added)


# --- messages to every registrant of an event, written by the worker ----------------------


def queue_for_registrants(
    event: Event,
    kind: str,
    *,
    key: tuple[str, str],
    statuses: tuple[str, ...],
    method: str | None = None,
    context: dict[str, Any] | None = None,
    registered_by: datetime | None = None,
    event_starts_at: datetime | None = None,
) -> int:
    """Record one unwritten `kind` message per registration of `event` in `statuses` (and
    registered by `registered_by`, when given) that has none with this key yet.

    The key is `key[0] + registration id + key[1]`. With a `method` the message carries an
    invite: the same UPDATE that picks the registrants raises their SEQUENCE, so a
    registrant who cancels meanwhile (and holds the row lock) is re-checked, not re-invited.
    """
    registration = Registration.__table__.c
    conditions = still_owed(event.id, key, statuses, registered_by)
    columns = (registration.id, registration.email, registration.invite_sequence)
    if method is None:
        picked = db.session.execute(select(*columns).where(*conditions)).all()
    else:
        picked = db.session.execute(
            update(Registration.__table__)
            .where(*conditions)
            .values(invite_sequence=registration.invite_sequence + 1)
            .returning(*columns)
        ).all()
        # Registrations already loaded in this session must not keep the old SEQUENCE.
        raised = {row.id for row in picked}
        for loaded in list(db.session.identity_map.values()):
            if isinstance(loaded, Registration) and loaded.id in raised:
                db.session.expire(loaded, ["invite_sequence"])
    who = _sender()
    now = utcnow()
    details = {"method": method, "context": context or {}}
    rows = [
        _row(f"{key[0]}{row.id}{key[1]}", kind, row.id, event.id, row.email, now)
        | {
            "message_id": new_message_id(who.domain),
            "subject": "",
            "status": "unwritten",
            "details": details | {"sequence": row.invite_sequence if method else None},
            "event_starts_at": event_starts_at,
        }
        for row in picked
    ]
    return len(_insert_new(rows))


def still_owed(
    event_id: int, key: tuple[str, str], statuses: tuple[str, ...], registered_by: datetime | None
) -> list[Any]:
    """Conditions picking the registrations of an event that have no message with the key
    `key[0] + id + key[1]` yet (the key as SQL, so those who have one are never loaded)."""
    registration = Registration.__table__.c
    key_sql = literal(key[0]) + cast(registration.id, String) + literal(key[1])
    conditions = [
        registration.event_id == event_id,
        registration.status.in_(statuses),
        ~exists().where(OutboxMessage.dedupe_key == key_sql),
    ]
    if registered_by is not None:
        conditions.append(registration.created_at <= registered_by)
    return conditions


def write_unwritten(now: datetime | None = None) -> int:
    """Compose the unwritten rows (a worker job); returns how many became ready to send.

    Composing reads only, outside any write lock; each chunk is then saved in one short
    write transaction, and only into rows still unwritten (two workers may race here).
    """
    now = now or utcnow()
    written = 0
    after = 0
    while True:
        rows = db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.registration_id,
                OutboxMessage.message_id,
                OutboxMessage.details,
                OutboxMessage.event_starts_at,
            )
            .where(OutboxMessage.status == "unwritten", OutboxMessage.id > after)
            .order_by(OutboxMessage.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            db.session.commit()
            return written
        after = rows[-1].id
        registrations = {
            r.id: r
            for r in db.session.scalars(
                select(Registration).where(
                    Registration.id.in_([row.registration_id for row in rows])
                )
            )
        }
        who = current_sender()
        updates = []
        for row in rows:
            try:
                registration = registrations[row.registration_id]
                details = row.details or {}
                context = dict(details.get("context") or {})
                if row.kind == "reminder":
                    context["lead"] = time_left(row.event_starts_at, now)
                letter = letter_for(
                    row.kind,
                    registration,
                    method=details.get("method"),
                    sequence=details.get("sequence"),
                    who=who,
                    **context,
                )
                content = compose(
                    letter,
                    sender=who,
                    to_email=registration.email,
                    to_name=registration.full_name,
                    message_id=row.message_id,
                )
                updates.append(
                    {
                        "id": row.id,
                        "status": "pending",
                        "subject": letter.subject[:300],
                        "content": content,
                        "last_error": None,
                    }
                )
            except Exception as exc:  # a message that cannot be written must not block the rest
                updates.append(
                    {
                        "id": row.id,
                        "status": "failed",
                        "subject": "",
                        "content": None,
                        "last_error": f"could not write: {exc!r}"[:2000],
                    }
                )
        db.session.commit()
        with writing():
            for values in updates:
                db.session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == values.pop("id"), OutboxMessage.status == "unwritten"
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
        written += sum(1 for values in updates if values["status"] == "pending")


def time_left(starts_at: datetime | None, now: datetime) -> str:
    """How long until the start, in words: "24 hours", "1 hour", "15 minutes", "7 days"."""
    if starts_at is None:
        return "a moment"
    minutes = max(round((starts_at - now).total_seconds() / 60), 1)
    if minutes >= 2880:
        return f"{round(minutes / 1440)} days"
    if minutes >= 90:
        return f"{round(minutes / 60)} hours"
    if minutes >= 55:
        return "1 hour"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- shared -------------------------------------------------------------------------------


def letter_for(
    kind: str,
    registration: Registration,
    *,
    method: str | None = None,
    sequence: int | None = None,
    who: Sender | None = None,
    **context: Any,
) -> Letter:
    """What a `kind` message to `registration` says, with its invite when `method` is set."""
    event = registration.event
    who = who or _sender()
    link = manage_url(registration)
    calendar = None
    if method is not None and sequence is not None:
        calendar = personal_invite(
            registration,
            method=method,  # type: ignore[arg-type]
            sequence=sequence,
            organizer=who,
            link=link,
        )
    if kind == "waitlisted":
        context.setdefault("position", waitlist_position(registration))
    if kind == "verification":
        context.setdefault("verify_url", verify_url(registration))
        context.setdefault("hours", current_app.config["VERIFICATION_HOURS"])
    subject, text, html = write(
        kind,
        SUBJECTS[kind].format(title=event.title, lead=context.get("lead", "")),
        event=event,
        registration=registration,
        manage_url=link,
        when=local_time(event.starts_at, event.timezone),
        when_utc=local_time(event.starts_at, "UTC", "%-d %B %Y, %H:%M"),
        length=duration(event.duration_minutes),
        invite=calendar is not None,
        sender=who,
        **context,
    )
    return Letter(subject, text, html, calendar, method if calendar is not None else None)


def _row(
    key: str, kind: str, registration_id: int, event_id: int, recipient: str, now: datetime
) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "kind": kind,
        "recipient": recipient,
        "registration_id": registration_id,
        "event_id": event_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _insert_new(rows: list[dict[str, Any]]) -> set[str]:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING; the keys of the rows actually added.

    Rows go as one executemany, which SQLAlchemy batches into multi-row INSERTs.
    """
    if not rows:
        return set()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.__table__.c.dedupe_key)
    )
    added = set(db.session.connection().execute(statement, rows).scalars())
    if added:
        db.session.info[WAKE] = True
    return added


def stamp(moment: datetime) -> str:
    """A moment as it appears in a dedupe key (UTC, to the microsecond)."""
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


def _sender() -> Sender:
    # One settings lookup per transaction, not one per message.
    cached = db.session.info.get(SENDER)
    if cached is None:
        cached = db.session.info[SENDER] = current_sender()
    return cached


def _wake_after_commit(session: Session) -> None:
    session.info.pop(SENDER, None)
    if session.info.pop(WAKE, False):
        from app.mail.worker import wake_worker

        wake_worker()


def _forget(session: Session) -> None:
    session.info.pop(SENDER, None)
    session.info.pop(WAKE, None)
