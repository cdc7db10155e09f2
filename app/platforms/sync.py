"""Registrants pushed to the webinar platform: the registration signals mark what the platform
should hold (inside the registration's own transaction, no call made), and the worker's job
makes the calls, retrying with back-off while the platform is down or busy.

A registration never waits on the platform. When the registrant's seat letter was already
written with the event's link (the platform was down), they get an update carrying their
own link once they are added.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, literal, select, update

from app import leasing, metrics
from app.db import UTCDateTime, db, utcnow, writing
from app.events import signals as event_signals
from app.events.models import Event
from app.mail.models import OutboxMessage
from app.mail.outbox import Draft, queue, stamp
from app.mail.receivers import seat_key
from app.platforms.base import Connector, Person, PlatformError
from app.platforms.models import RegistrantSync
from app.platforms.registry import PLATFORMS, connector
from app.platforms.retries import gives_up, retry_failed_row, wait_after
from app.registrations import signals as registration_signals
from app.registrations.models import Registration
from app.worker import wake_after_commit

log = logging.getLogger(__name__)


def connect() -> None:
    """Connect the receivers (once per process; blinker ignores a second connection)."""
    registration_signals.registered.connect(on_seated, weak=False)
    registration_signals.promoted.connect(on_seated, weak=False)
    registration_signals.cancelled.connect(on_cancelled, weak=False)
    event_signals.event_changed.connect(on_event_changed, weak=False)
    event_signals.event_cancelled.connect(on_event_cancelled, weak=False)


def on_seated(registration: Registration, **_: Any) -> None:
    """A confirmed seat on a platform event: the platform is owed this registrant.

    Only a seat gets a platform registration (its join link lets the person in); the
    waitlisted and the unpaid are added when they are confirmed (`registered`/`promoted`
    come again then).
    """
    event = registration.event
    if registration.status != "confirmed" or not (event.platform and event.platform_webinar_id):
        return
    row = _row_of(registration.id)
    if row is None:
        db.session.add(
            RegistrantSync(
                registration_id=registration.id,
                event_id=event.id,
                platform=event.platform,
                webinar_id=event.platform_webinar_id,
                next_attempt_at=utcnow(),
            )
        )
        db.session.flush()
    else:
        row.want = "registered"
        if row.status == "pending" and row.registrant_id:
            row.status = "synced"  # its cancel had not gone out yet: the platform still has them
        elif row.status in ("cancelled", "failed"):
            _owe_call(row)
    wake_after_commit()


def on_cancelled(registration: Registration, **_: Any) -> None:
    row = _row_of(registration.id)
    if row is not None:
        _want_cancelled(row)


def on_event_changed(event: Event, changed: set[str], **_: Any) -> None:
    """An event linked to its webinar after people registered: those with a seat are owed
    to the platform too (one INSERT … SELECT, however many they are)."""
    if not changed & {"platform", "platform_webinar_id"} or not event.platform:
        return
    now = utcnow()
    registration = Registration.__table__.c
    owed = select(
        registration.id,
        literal(event.id),
        literal(event.platform),
        literal(event.platform_webinar_id),
        literal("registered"),
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(
        registration.event_id == event.id,
        registration.status == "confirmed",
        ~select(RegistrantSync.id)
        .where(RegistrantSync.registration_id == registration.id)
        .exists(),
    )
    columns = [
        "registration_id",
        "event_id",
        "platform",
        "webinar_id",
        "want",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    db.session.execute(insert(RegistrantSync).from_select(columns, owed))
    wake_after_commit()


def on_event_cancelled(event: Event, **_: Any) -> None:
    rows = db.session.scalars(
        select(RegistrantSync).where(
            RegistrantSync.event_id == event.id, RegistrantSync.want == "registered"
        )
    )
    for row in rows:
        _want_cancelled(row)


def _want_cancelled(row: RegistrantSync) -> None:
    row.want = "cancelled"
    if row.status == "sending":
        return  # the worker holding it sees `want` when it records the call
    if row.registrant_id is None:
        row.status = "cancelled"  # never reached the platform: nothing to undo there
    elif row.status != "cancelled":
        _owe_call(row)
        wake_after_commit()


def _owe_call(row: RegistrantSync) -> None:
    row.status = "pending"
    row.attempts = 0
    row.last_error = None
    row.next_attempt_at = utcnow()


def _row_of(registration_id: int) -> RegistrantSync | None:
    return db.session.scalar(
        select(RegistrantSync).where(RegistrantSync.registration_id == registration_id)
    )


def sync_registrants(now: datetime) -> int:
    """The worker's job: make every platform call due at `now`; how many succeeded."""
    config = current_app.config
    return leasing.drain(
        RegistrantSync,
        int(config["PLATFORM_BATCH_SIZE"]),
        int(config["PLATFORM_LEASE_SECONDS"]),
        now,
        _call_claimed,
    )


def _call_claimed(lease: str, now: datetime) -> int:
    rows = db.session.execute(
        select(RegistrantSync, Registration)
        .join(Registration, Registration.id == RegistrantSync.registration_id)
        .where(RegistrantSync.lease == lease)
        .order_by(RegistrantSync.id)
    ).all()
    db.session.commit()
    connectors: dict[str, Connector | None] = {}
    done = 0
    for index, (row, registration) in enumerate(rows):
        if row.platform not in connectors:
            connectors[row.platform] = connector(row.platform)
        platform = connectors[row.platform]
        if platform is None:
            label = PLATFORMS.get(row.platform, row.platform)
            wait = timedelta(seconds=float(current_app.config["PLATFORM_RETRY_CAP_SECONDS"]))
            _release(row.id, lease, now + wait, f"{label} is not connected.")
            continue
        try:
            done += _call(platform, row, registration, lease, now)
        except PlatformError as error:
            metrics.PLATFORM_SYNC_FAILURES.labels(row.platform).inc()
            attempts = row.attempts + 1
            if error.permanent:
                # This registrant's problem, not the platform's: the batch goes on.
                _finish(row.id, lease, status="failed", attempts=attempts, error=error.message)
                continue
            wait = wait_after(attempts, error)
            if gives_up(attempts, error):
                _finish(row.id, lease, status="failed", attempts=attempts, error=error.message)
            else:
                _release(row.id, lease, now + wait, error.message, attempts=attempts)
            # The platform is down or asked us to slow down: the rest of the batch waits too
            # (not counted as an attempt) rather than hammering it.
            for later, _registration in rows[index + 1 :]:
                _release(later.id, lease, now + wait, error.message)
            log.info("platform call failed (%s); retrying in %s", error.message, wait)
            break
    return done


def _call(
    platform: Connector, row: RegistrantSync, registration: Registration, lease: str, now: datetime
) -> int:
    if row.want == "registered":
        added = platform.add_registrant(row.webinar_id, _person(registration))
        row_id = row.id
        # Recorded right after the platform answered, through a database blip (app.leasing).
        leasing.persist(
            _record_added,
            row_id,
            lease,
            added.registrant_id,
            added.join_url,
            now,
            what="a platform call",
        )
    elif row.registrant_id:
        row_id = row.id
        platform.cancel_registrant(row.webinar_id, row.registrant_id, registration.email)
        leasing.persist(_record_cancelled, row_id, lease, what="a platform call")
    else:
        _record_cancelled(row.id, lease)
    return 1


def _person(registration: Registration) -> Person:
    return Person(
        email=registration.email,
        first_name=registration.first_name,
        last_name=registration.last_name,
        company=registration.company or None,
        title=registration.job_title or None,
        country=registration.country,
        phone=registration.phone,
    )


def _locked(row_id: int, lease: str) -> RegistrantSync | None:
    """The row, locked, while our lease holds (one that went back into play is not ours)."""
    return db.session.scalars(
        select(RegistrantSync)
        .where(RegistrantSync.id == row_id, RegistrantSync.lease == lease)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _record_added(
    row_id: int, lease: str, registrant_id: str, join_url: str | None, now: datetime
) -> None:
    with writing():
        row = _locked(row_id, lease)
        if row is None:
            return
        row.registrant_id = registrant_id
        row.synced_at = now
        row.last_error = None
        row.lease = row.locked_until = None
        if row.want == "cancelled":
            _owe_call(row)  # cancelled while we were adding: undo it on the next call
            return
        row.status = "synced"
        registration = db.session.get(Registration, row.registration_id, populate_existing=True)
        if registration is None or join_url is None or registration.join_url == join_url:
            return
        registration.join_url = join_url
        if _seat_letter_written(registration):
            _send_personal_link(registration)


def _record_cancelled(row_id: int, lease: str) -> None:
    with writing():
        row = _locked(row_id, lease)
        if row is None:
            return
        row.lease = row.locked_until = None
        if row.want == "registered":
            row.registrant_id = None
            _owe_call(row)  # registered again while we were cancelling: add them back
            return
        row.status = "cancelled"
        row.last_error = None


def _seat_letter_written(registration: Registration) -> bool:
    """Whether the "you have a seat" letter was already composed (with the event's link);
    one still unwritten is written after this job, with the registrant's own link."""
    status = db.session.scalar(
        select(OutboxMessage.status).where(OutboxMessage.dedupe_key == seat_key(registration))
    )
    return status is not None and status != "unwritten"


def _send_personal_link(registration: Registration) -> None:
    """One update per registration's life, carrying the registrant's own link (and an
    invite that replaces the one they have)."""
    if registration.status != "confirmed" or registration.event.status != "published":
        return
    key = f"personal-link:reg:{registration.id}:{stamp(registration.created_at)}"
    queue(
        [
            Draft(
                "update",
                key,
                registration,
                method="REQUEST",
                sequence=registration.invite_sequence + 1,
                context={"changed": ["join_url"]},
            )
        ]
    )


def _release(
    row_id: int, lease: str, at: datetime, error: str, *, attempts: int | None = None
) -> None:
    values: dict[str, object] = {"status": "pending", "next_attempt_at": at, "last_error": error}
    if attempts is not None:
        values["attempts"] = attempts
    _update(row_id, lease, values)


def _finish(row_id: int, lease: str, *, status: str, attempts: int, error: str) -> None:
    _update(row_id, lease, {"status": status, "attempts": attempts, "last_error": error})


def _update(row_id: int, lease: str, values: dict[str, object]) -> None:
    statement = (
        update(RegistrantSync)
        .where(RegistrantSync.id == row_id, RegistrantSync.lease == lease)
        .values(lease=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    leasing.persist(db.session.execute, statement, what="a platform call")


def retry_failed(sync_id: int) -> bool:
    """Make a failed platform call once more at the worker's next pass; False when the sync is
    not failed (any more). Committed."""
    return retry_failed_row(RegistrantSync, RegistrantSync.id == sync_id)
