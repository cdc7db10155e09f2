"""The one door into the outbox: every package that owes someone an email queues it here, in
the transaction that caused it, so a message exists if and only if its cause was committed.

Every row has a dedupe key naming its cause (the registration and the moment of the change),
so queueing the same cause twice adds nothing. An invite-bearing row raises the
registration's invite SEQUENCE only when the row is new. A commit that added rows wakes the
worker.

A message to a registrant is only recorded here, as an "unwritten" row saying what to write;
the worker composes it (`letters.write_unwritten`) before it sends it. So a registration does
not hold the event's seat lock while templates and invites are rendered, and cancelling a
webinar with 10,000 registrants stays a quick request. A letter to staff (`queue_letter`)
arrives written and is stored ready to send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, exists, literal, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from app import request_ids
from app.db import db, insert_ignoring, utcnow
from app.events.models import Event
from app.mail.compose import Letter, compose, new_message_id
from app.mail.models import OutboxMessage
from app.registrations.models import Registration
from app.sender import Sender, current_sender, message_id_domain
from app.worker import wake_after_commit

_SENDER = "reserve_mail_sender"


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
    """Forget the transaction's sender at its end (once per process)."""
    if not orm_event.contains(Session, "after_commit", _forget_sender):
        orm_event.listen(Session, "after_commit", _forget_sender)
        orm_event.listen(Session, "after_rollback", _forget_sender)


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
    domain = message_id_domain()
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
        | _unwritten(domain, method=draft.method, sequence=draft.sequence, context=draft.context)
        for draft in drafts
    ]
    added = _insert_new(rows)
    for draft in drafts:
        # Set only when it changes: an unchanged value would still mark the registration
        # dirty, and the commit would run a flush for nothing (a first invite's 0 is stored).
        if (
            draft.key in added
            and draft.sequence is not None
            and draft.registration.invite_sequence != draft.sequence
        ):
            draft.registration.invite_sequence = draft.sequence
    return len(added)


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
    where: Iterable[Any] = (),
) -> int:
    """Record one unwritten `kind` message per registration of `event` in `statuses` (and
    registered by `registered_by`, when given, and meeting the conditions `where`) that has
    none with this key yet.

    The key is `key[0] + registration id + key[1]`. With a `method` the message carries an
    invite: the same UPDATE that picks the registrants raises their SEQUENCE, so a
    registrant who cancels meanwhile (and holds the row lock) is re-checked, not re-invited.
    """
    registration = Registration.__table__.c
    conditions = [*still_owed(event.id, key, statuses, registered_by), *where]
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
    domain = message_id_domain()
    now = utcnow()
    rows = [
        _row(f"{key[0]}{row.id}{key[1]}", kind, row.id, event.id, row.email, now)
        | _unwritten(
            domain,
            method=method,
            sequence=row.invite_sequence if method else None,
            context=context or {},
        )
        | {"event_starts_at": event_starts_at}
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


def queue_letter(
    kind: str,
    key: str,
    letter: Letter,
    *,
    to_email: str,
    to_name: str,
    event_id: int | None = None,
) -> bool:
    """Add a written letter to someone who is not a registrant (a rep, an admin), ready to
    send; False when a message with this key exists already."""
    who = transaction_sender()
    message_id = new_message_id(who.domain)
    row = _row(key[:200], kind, None, event_id, to_email, utcnow()) | {
        "message_id": message_id,
        "subject": letter.subject[:300],
        "content": compose(
            letter, sender=who, to_email=to_email, to_name=to_name, message_id=message_id
        ),
    }
    return bool(_insert_new([row]))


def stamp(moment: datetime) -> str:
    """A moment as it appears in a dedupe key (UTC, to the microsecond)."""
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


def transaction_sender() -> Sender:
    """Who the messages are from: one settings lookup per transaction, not one per message."""
    cached = db.session.info.get(_SENDER)
    if cached is None:
        cached = db.session.info[_SENDER] = current_sender()
    return cached


def _row(
    key: str,
    kind: str,
    registration_id: int | None,
    event_id: int | None,
    recipient: str,
    now: datetime,
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
        "request_id": request_ids.current(),
    }


def _unwritten(
    domain: str, *, method: str | None, sequence: int | None, context: dict[str, Any]
) -> dict[str, Any]:
    """The columns of a row the worker still has to write: what to write, not the words."""
    return {
        "message_id": new_message_id(domain),
        "subject": "",
        "status": "unwritten",
        "details": {"method": method, "sequence": sequence, "context": context},
    }


def _insert_new(rows: list[dict[str, Any]]) -> set[str]:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING; the keys of the rows actually added.

    Rows go as one executemany, which SQLAlchemy batches into multi-row INSERTs.
    """
    if not rows:
        return set()
    statement = insert_ignoring(OutboxMessage.__table__, ("dedupe_key",), "dedupe_key")
    added = set(db.session.connection().execute(statement, rows).scalars())
    if added:
        wake_after_commit()
    return added


def _forget_sender(session: Session) -> None:
    session.info.pop(_SENDER, None)
