"""Counting registrations once they are committed: the `registered` signal notes each one in
its transaction, the commit counts them (a rolled-back registration is not counted). A
registration announced again (verified, approved, paid) is not counted again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from app import metrics
from app.db import db
from app.registrations import signals
from app.registrations.models import Registration

_NOTED = "reserve_registrations_to_count"


def connect() -> None:
    """Listen once per process, however many apps are made."""
    signals.registered.connect(_note, weak=False)
    if not orm_event.contains(Session, "after_commit", _count):
        orm_event.listen(Session, "after_commit", _count)
        orm_event.listen(Session, "after_rollback", _forget)


def _note(registration: Registration, *, again: bool = False, **_: Any) -> None:
    # Each registration once, under the status it was taken with: a double opt-in counts as
    # `unverified`, not again when verified (nor one approved or paid for later).
    if again:
        return
    db.session.info.setdefault(_NOTED, []).append(registration.status)


def _count(session: Session) -> None:
    for status in session.info.pop(_NOTED, ()):
        metrics.REGISTRATIONS.labels(status).inc()


def _forget(session: Session) -> None:
    session.info.pop(_NOTED, None)
