"""Attendance pulled from the platform: owed after the webinar ends (its webhook), when staff
ask, or a set time after the scheduled end; the worker fetches the report, applies it exactly
as an uploaded one, and routes the event's follow-up in the same pass."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app import leasing
from app.db import db, insert_ignoring_conflict
from app.events.models import Event
from app.followup.attendance import apply_attendance
from app.followup.due import AUTO_ROUTE_WINDOW
from app.followup.routing import RoutingRefused, route_followups
from app.platforms.base import PlatformError
from app.platforms.models import AttendancePull
from app.platforms.registry import PLATFORMS, connector
from app.platforms.retries import gives_up, retry_failed_row, wait_after
from app.refusals import Refusal
from app.worker import wake_after_commit

log = logging.getLogger(__name__)


class PullRefused(Refusal):
    """The event's attendance cannot be pulled from a platform; the message says why."""

    status = 409


def request_pull(
    event: Event, reason: str, now: datetime, *, ended_at: datetime | None = None
) -> None:
    """Have the next worker pass pull the event's attendance (in the caller's transaction)."""
    insert_ignoring_conflict(
        AttendancePull,
        ["event_id"],
        event_id=event.id,
        reason=reason,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    pull = db.session.scalar(select(AttendancePull).where(AttendancePull.event_id == event.id))
    assert pull is not None
    pull.reason = reason
    pull.attempts = 0
    pull.last_error = None
    pull.next_attempt_at = now
    # A pull in a worker's hands now is made again: the report may have grown since.
    pull.status = "pending"
    pull.lease = pull.locked_until = None
    if ended_at is not None:
        pull.ended_at = ended_at
    wake_after_commit()


def retry_failed_pull(event_id: int) -> bool:
    """Make a failed attendance pull once more at the worker's next pass, as `retry_failed`
    does for a registrant sync; False when the event's pull is not failed (any more). Committed.
    """
    return retry_failed_row(AttendancePull, AttendancePull.event_id == event_id)


def check_pullable(event: Event) -> None:
    """Refuse (409) a pull for an event that has no platform, or whose platform is not
    connected here."""
    if not event.platform:
        raise PullRefused(
            "This event is not linked to a webinar platform; upload its attendance report instead.",
            fields={"platform": "Link the event to a Zoom or GoTo webinar first."},
        )
    if connector(event.platform) is None:
        label = PLATFORMS.get(event.platform, event.platform)
        raise PullRefused(
            f"{label} is not connected: set its credentials first.",
            fields={"platform": f"{label} is not connected."},
        )


def pull_due(now: datetime) -> int:
    """The worker's job: pull, apply and route every event whose attendance is due; how many
    events got their attendance."""
    _owe_after_schedule(now)
    config = current_app.config
    lease, ids = leasing.claim(
        AttendancePull,
        int(config["PLATFORM_BATCH_SIZE"]),
        now,
        int(config["PLATFORM_LEASE_SECONDS"]),
    )
    pulls = db.session.scalars(
        select(AttendancePull).where(AttendancePull.lease == lease).order_by(AttendancePull.id)
    ).all()
    db.session.commit()
    applied = 0
    try:
        for pull in pulls:
            try:
                applied += _pull(pull, now)
            except PlatformError as error:
                _retry(pull, now, error)
    except BaseException:
        # The pulls not yet made go back at once, not when the lease runs out.
        db.session.rollback()
        with leasing.Ledger() as ledger, suppress(leasing.Unsettled):
            ledger.release(AttendancePull, lease)
        raise
    return applied


def _pull(pull: AttendancePull, now: datetime) -> int:
    event = db.session.get(Event, pull.event_id)
    platform = connector(event.platform) if event is not None else None
    if event is None or event.platform_webinar_id is None or platform is None:
        raise PlatformError("The event's webinar platform is not connected.", permanent=True)
    report = platform.fetch_attendance(event.platform_webinar_id)
    if not report.attendees:
        # Right after the end the platform may not have its report yet.
        raise PlatformError(f"{platform.label}'s report has nobody in it yet.")
    summary = apply_attendance(event, report, now)
    _finish(pull, status="done", pulled_at=now)
    log.info(
        "attendance of event %s pulled from %s: %s", event.id, platform.label, summary.counts()
    )
    try:
        route_followups(event.id, trigger="worker", now=now)
    except RoutingRefused as refused:
        # Not yet ended by the schedule, or cancelled: the routing job takes it when due.
        log.info("event %s not routed after its pull: %s", event.id, refused.message)
    return 1


def _owe_after_schedule(now: datetime) -> None:
    """Events on a platform whose scheduled end passed a while ago without any pull: one is
    owed now (the platform's end webhook never came, or was not set up)."""
    wait = timedelta(minutes=int(current_app.config["PLATFORM_PULL_AFTER_END_MINUTES"]))
    missing = db.session.scalars(
        select(Event).where(
            Event.platform.is_not(None),
            Event.status == "published",
            Event.ends_at <= now - wait,
            Event.ends_at > now - AUTO_ROUTE_WINDOW,
            ~select(AttendancePull.id).where(AttendancePull.event_id == Event.id).exists(),
        )
    ).all()
    for event in missing:
        request_pull(event, "schedule", now)
    db.session.commit()


def _retry(pull: AttendancePull, now: datetime, error: PlatformError) -> None:
    """Try again later. Nothing of the pull was written before the error, but the call may have
    saved credentials (GoTo renews its refresh token and voids the old one): the commit keeps
    them, where a rollback would leave the platform disconnected."""
    attempts = pull.attempts + 1
    if gives_up(attempts, error):
        _finish(pull, status="failed", attempts=attempts, last_error=error.message)
        return
    _finish(
        pull,
        status="pending",
        attempts=attempts,
        last_error=error.message,
        next_attempt_at=now + wait_after(attempts, error),
    )


def _finish(pull: AttendancePull, **values: object) -> None:
    """Record the outcome while our lease holds (a pull asked for again meanwhile is left
    for its own turn)."""
    statement = (
        update(AttendancePull)
        .where(AttendancePull.id == pull.id, AttendancePull.lease == pull.lease)
        .values(lease=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    leasing.persist(db.session.execute, statement, what="an attendance pull")
