"""What receivers are told: the domain packages' signals turned into webhook events, each
added to the webhook outbox inside the transaction that made the change (never committed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select

from app.db import db, utcnow
from app.events import signals as event_signals
from app.events.models import Event
from app.followup import signals as followup_signals
from app.followup.alerts import Earlier
from app.followup.models import FollowUp, RegistrationAlert
from app.payments import signals as payment_signals
from app.payments.models import Payment
from app.privacy import signals as privacy_signals
from app.privacy.models import Erasure
from app.registrations import signals as registration_signals
from app.registrations.models import Registration
from app.webhooks import outbox
from app.webhooks.outbox import announce, announce_many, iso, stamp, wanted


def connect() -> None:
    """Connect the receivers (once per process; blinker ignores a second connection)."""
    outbox.connect()
    registration_signals.registering.connect(on_registering, weak=False)
    registration_signals.registered.connect(on_registered, weak=False)
    registration_signals.promoted.connect(on_promoted, weak=False)
    registration_signals.cancelled.connect(on_cancelled, weak=False)
    registration_signals.declined.connect(on_declined, weak=False)
    event_signals.event_cancelled.connect(on_event_cancelled, weak=False)
    followup_signals.attendance_applied.connect(on_attendance_applied, weak=False)
    followup_signals.routed.connect(on_routed, weak=False)
    followup_signals.assigned.connect(on_assigned, weak=False)
    followup_signals.updated.connect(on_updated, weak=False)
    followup_signals.alerted.connect(on_alerted, weak=False)
    payment_signals.paid.connect(on_paid, weak=False)
    payment_signals.refunded.connect(on_refunded, weak=False)
    privacy_signals.erased.connect(on_erased, weak=False)


def registration_data(registration: Registration | Row[Any]) -> dict[str, Any]:
    return {
        "registration_id": registration.id,
        "event_id": registration.event_id,
        "email": registration.email,
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "status": registration.status,
        "created_at": iso(registration.created_at),
    }


def _life(registration: Registration | Row[Any]) -> str:
    """This registration's life: one made again after a cancel is a new one."""
    return f"reg:{registration.id}:{stamp(registration.created_at)}"


def on_registering(event: Event, **_: Any) -> None:
    # Who subscribes is read once per transaction: here, before the seat is taken.
    wanted("registration.created")


def on_registered(registration: Registration, **_: Any) -> None:
    # `registered` comes again when an unverified or unpaid registration is confirmed: the
    # keys make `created` once per life and add what the new status says.
    types = ["registration.created"]
    if registration.status in ("confirmed", "waitlisted"):
        types.append(f"registration.{registration.status}")
    # With no subscriber (most installations) a registration builds no payload.
    types = [event_type for event_type in types if wanted(event_type)]
    if types:
        data = registration_data(registration)
        for event_type in types:
            announce(event_type, _life(registration), data)


def on_promoted(registration: Registration, **_: Any) -> None:
    if registration.status == "confirmed":
        announce("registration.confirmed", _life(registration), registration_data(registration))


def on_cancelled(registration: Registration, *, by: str = "", **_: Any) -> None:
    announce(
        "registration.cancelled",
        _life(registration),
        registration_data(registration) | {"cancelled_by": by},
    )


def on_declined(registration: Registration, **_: Any) -> None:
    announce("registration.declined", _life(registration), registration_data(registration))


def on_event_cancelled(event: Event, **_: Any) -> None:
    # Cancelling the event ends every registration still standing, without changing their
    # rows; each is told as its own cancel would be, under the same key, so a registrant who
    # cancels afterwards (or had before) is announced once. Read as plain columns: an event
    # may have thousands.
    if not wanted("registration.cancelled"):
        return
    columns = Registration.__table__.c
    standing = db.session.execute(
        select(
            columns.id,
            columns.event_id,
            columns.email,
            columns.first_name,
            columns.last_name,
            columns.status,
            columns.created_at,
        ).where(columns.event_id == event.id, columns.status != "cancelled")
    )
    announce_many(
        "registration.cancelled",
        [
            (_life(row), registration_data(row) | {"status": "cancelled", "cancelled_by": "event"})
            for row in standing
        ],
    )


def on_attendance_applied(event: Event, *, summary: Any, **_: Any) -> None:
    # The same report applied again keeps the import's time, so it is not news twice.
    moment = event.attendance_imported_at or utcnow()
    announce(
        "attendance.applied",
        f"event:{event.id}:{stamp(moment)}",
        {"event_id": event.id, **summary.counts(), "imported_at": iso(moment)},
    )


def followup_data(followup: FollowUp) -> dict[str, Any]:
    return {
        "followup_id": followup.id,
        "event_id": followup.event_id,
        "lead_id": followup.lead_id,
        "registration_id": followup.registration_id,
        "rep_id": followup.rep_id,
        "status": followup.status,
        "priority": followup.priority,
        "score": followup.score,
        "reason": followup.reason,
        "due_at": iso(followup.due_at) if followup.due_at else None,
    }


def on_routed(event: Event, *, run_id: int, **_: Any) -> None:
    # Routing writes its follow-ups in bulk; those it gave to a rep are read back once, and
    # only when someone listens.
    if not wanted("followup.assigned"):
        return
    made = db.session.scalars(
        select(FollowUp).where(FollowUp.run_id == run_id, FollowUp.rep_id.is_not(None))
    )
    announce_many("followup.assigned", [_assigned(followup) for followup in made])


def on_assigned(followup: FollowUp, **_: Any) -> None:
    announce("followup.assigned", *_assigned(followup))


def _assigned(followup: FollowUp) -> tuple[str, dict[str, Any]]:
    moment = followup.assigned_at or utcnow()
    return f"fu:{followup.id}:{stamp(moment)}", followup_data(followup)


def on_updated(followup: FollowUp, **_: Any) -> None:
    key = f"fu:{followup.id}:{followup.status}:{stamp(utcnow())}"
    announce("followup.updated", key, followup_data(followup))


def on_alerted(
    alert: RegistrationAlert,
    *,
    answers: list[tuple[str, str]],
    history: list[Earlier],
    **_: Any,
) -> None:
    # One per registration: the alert row is, and so is its key.
    rep = alert.rep
    announce(
        "registration.hot",
        f"reg:{alert.registration_id}",
        registration_data(alert.registration)
        | {
            "rep": {"id": rep.id, "email": rep.email, "name": rep.name} if rep else None,
            "why": alert.why,
            "answers": [{"label": label, "answer": answer} for label, answer in answers],
            "history": [
                {
                    "event_title": line.event_title,
                    "starts_at": iso(line.starts_at),
                    "status": line.status,
                    "attended_minutes": line.attended_minutes,
                    "followup_status": line.followup_status,
                    "followup_rep": line.followup_rep,
                }
                for line in history
            ],
        },
    )


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "registration_id": payment.registration_id,
        "event_id": payment.event_id,
        "amount_cents": payment.amount_cents,
        "refunded_cents": payment.refunded_cents,
        "currency": payment.currency,
        "status": payment.status,
    }


def on_paid(payment: Payment, **_: Any) -> None:
    announce("payment.succeeded", f"pay:{payment.id}", payment_data(payment))


def on_refunded(payment: Payment, **_: Any) -> None:
    announce(
        "payment.refunded",
        f"pay:{payment.id}:refunded:{payment.refunded_cents}",
        payment_data(payment),
    )


def on_erased(erasure: Erasure, **_: Any) -> None:
    # The hash, never the address: a receiver that holds the address can match it, and one
    # that does not learns nothing.
    announce(
        "person.erased",
        f"erasure:{erasure.id}",
        {"email_sha256": erasure.email_sha256, "erased_at": iso(erasure.erased_at)},
    )
