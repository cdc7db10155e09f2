"""Signal receivers: a cancelled paid seat or a cancelled event owes refunds, recorded in the
very transaction that cancelled it, so no refund is forgotten if the process stops."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.events import signals as event_signals
from app.events.models import Event
from app.payments import refunds
from app.registrations import signals as registration_signals
from app.registrations.models import Registration


def connect() -> None:
    registration_signals.cancelled.connect(on_cancelled, weak=False)
    event_signals.event_cancelled.connect(on_event_cancelled, weak=False)
    if not orm_event.contains(Session, "after_commit", _after_commit):
        orm_event.listen(Session, "after_commit", _after_commit)
        orm_event.listen(Session, "after_rollback", _after_rollback)


def on_cancelled(
    registration: Registration, previous_status: str, by: str = "registrant", **_: Any
) -> None:
    # Not only for events priced now: money paid before a price change is still owed back.
    if previous_status in ("confirmed", "pending_payment"):
        refunds.owe_refund_for(registration, previous_status, by)


def on_event_cancelled(event: Event, **_: Any) -> None:
    refunds.owe_refunds_for_event(event)


def _after_commit(session: Session) -> None:
    if given_up := session.info.pop(refunds.EXPIRE_AFTER_COMMIT, None):
        refunds.expire_sessions(given_up)
    if session.info.pop(refunds.REFUNDS_OWED, False) and has_request_context():
        # Committed refunds owed by this request: made at its end (see `refund_after_request`).
        g.payments_refunds_owed = True


def _after_rollback(session: Session) -> None:
    session.info.pop(refunds.EXPIRE_AFTER_COMMIT, None)
    session.info.pop(refunds.REFUNDS_OWED, None)


def refund_at_the_end_of_the_request(response: Response) -> Response:
    if g.pop("payments_refunds_owed", False):
        refunds.refund_after_request()
    return response
