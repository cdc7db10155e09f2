"""What receivers are told: the domain packages' signals turned into webhook events, each
added to the webhook outbox inside the transaction that made the change (never committed)."""

from __future__ import annotations

from typing import Any

from app.registrations import signals as registration_signals
from app.registrations.models import Registration
from app.webhooks.outbox import announce, iso, stamp


def connect() -> None:
    """Connect the receivers (once per process; blinker ignores a second connection)."""
    registration_signals.registered.connect(on_registered, weak=False)
    registration_signals.promoted.connect(on_promoted, weak=False)
    registration_signals.cancelled.connect(on_cancelled, weak=False)


def registration_data(registration: Registration) -> dict[str, Any]:
    return {
        "registration_id": registration.id,
        "event_id": registration.event_id,
        "email": registration.email,
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "status": registration.status,
        "created_at": iso(registration.created_at),
    }


def _life(registration: Registration) -> str:
    """This registration's life: one made again after a cancel is a new one."""
    return f"reg:{registration.id}:{stamp(registration.created_at)}"


def on_registered(registration: Registration, **_: Any) -> None:
    # `registered` comes again when an unverified or unpaid registration is confirmed: the
    # keys make `created` once per life and add what the new status says.
    data = registration_data(registration)
    announce("registration.created", _life(registration), data)
    if registration.status == "confirmed":
        announce("registration.confirmed", _life(registration), data)
    elif registration.status == "waitlisted":
        announce("registration.waitlisted", _life(registration), data)


def on_promoted(registration: Registration, **_: Any) -> None:
    if registration.status == "confirmed":
        announce("registration.confirmed", _life(registration), registration_data(registration))


def on_cancelled(registration: Registration, *, by: str = "", **_: Any) -> None:
    announce(
        "registration.cancelled",
        _life(registration),
        registration_data(registration) | {"cancelled_by": by},
    )
