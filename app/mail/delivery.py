"""Sending the outbox: claim due rows under a lease, send them over SMTP (or write `.eml`
files when no server is configured), record each outcome, retry failures with backoff.

A row is claimed by one conditional UPDATE (still pending and due, or its lease expired), so
two workers never hold the same row. Each sent row is committed on its own right after the
server accepts it, retried through a database blip (app.leasing): a crash can resend at most
the message in flight (with the same Message-ID). A run that fails part-way gives back what it
did not send at once; only a worker killed outright leaves its batch to wait for the lease.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, case, select, update

from app import leasing, request_ids
from app.db import db, utcnow
from app.events.models import Event
from app.mail.compose import dated
from app.mail.letters import write_unwritten
from app.mail.models import POST_EVENT_KINDS, OutboxMessage
from app.mail.post_event import not_unsubscribed
from app.mail.posts import FilePost, Permanent, Post, SmtpPost, Transient
from app.registrations.models import Registration
from app.sender import current_sender
from app.worker import wake_after_commit

log = logging.getLogger(__name__)


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.skipped} skipped"
        )


def send_outbox(now: datetime | None = None) -> dict[str, int]:
    """Mail's final step in every worker pass, after every job: write what the jobs (and the
    requests since the last pass) queued, then send everything due.

    A failure to write is logged and what is already written is still sent.
    """
    done: dict[str, int] = {}
    try:
        done["written"] = write_unwritten(now)
    except Exception:
        db.session.rollback()
        log.exception("worker job written failed")
    report = deliver_due(now)
    return done | {"sent": report.sent, "retried": report.retried, "failed": report.failed}


def deliver_due(now: datetime | None = None, *, batch_size: int | None = None) -> Report:
    """Send every message due at `now` (default: the clock), a batch at a time, until none
    is left, the server cannot be reached, or the database cannot record what was sent."""
    config = current_app.config
    batch_size = batch_size or int(config["OUTBOX_BATCH_SIZE"])
    report = Report()
    envelope_from = current_sender().email
    db.session.commit()
    post: Post = (
        SmtpPost(config, envelope_from)
        if config.get("MAIL_SERVER")
        else FilePost(config["OUTBOX_DIR"])
    )
    # Outcomes are recorded through a ledger held for the run: one short committed UPDATE per
    # message, retried through a database blip (app.leasing).
    try:
        with leasing.Ledger() as ledger:
            while True:
                moment = now or utcnow()
                lease, ids = claim(batch_size, moment)
                if not ids:
                    break
                if not _send_batch(post, ledger, lease, moment, report):
                    break
    except leasing.Unsettled as exc:
        # The database stayed away through every try: what was sent is recorded on the next
        # claim (this process keeps it), what was not went back or goes back then.
        log.error("outbox: the database cannot record outcomes (%s); stopping this run", exc)
    finally:
        post.close()
    if report.sent or report.retried or report.failed:
        log.info("outbox: %s", report)
    return report


def claim(limit: int, now: datetime) -> tuple[str, list[int]]:
    """Lease up to `limit` due outbox rows to this run; returns the lease and the ids it won."""
    seconds = int(current_app.config["OUTBOX_LEASE_SECONDS"])
    return leasing.claim(OutboxMessage, limit, now, seconds)


def _send_batch(
    post: Post, ledger: leasing.Ledger, lease: str, now: datetime, report: Report
) -> bool:
    """Send the rows held under `lease`; False when the server could not be reached. When
    anything fails part-way, the rows not yet sent are given back at once."""
    rows = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.message_id,
            OutboxMessage.recipient,
            OutboxMessage.kind,
            OutboxMessage.attempts,
            OutboxMessage.content,
            OutboxMessage.request_id,
        )
        .where(OutboxMessage.lease == lease)
        .order_by(OutboxMessage.id)
    ).all()
    untouched = {row.id for row in rows}
    try:
        return _send_rows(post, ledger, lease, now, rows, untouched, report)
    except BaseException:
        db.session.rollback()
        with suppress(leasing.Unsettled):
            ledger.release(OutboxMessage, lease, untouched)  # kept for the next claim if not
        raise


def _send_rows(
    post: Post,
    ledger: leasing.Ledger,
    lease: str,
    now: datetime,
    rows: Any,
    untouched: set[int],
    report: Report,
) -> bool:
    config = current_app.config
    moot = _moot_reminders([row.id for row in rows if row.kind == "reminder"], now)
    moot |= _moot_verifications([row.id for row in rows if row.kind == "verification"])
    moot |= _moot_post_event([row.id for row in rows if row.kind in POST_EVENT_KINDS])
    db.session.commit()
    # Stop early enough that the lease cannot run out while a message is still in flight.
    lease_seconds = float(config["OUTBOX_LEASE_SECONDS"])
    margin = min(float(config["MAIL_TIMEOUT_SECONDS"]) + 5, lease_seconds / 2)
    deadline = time.monotonic() + lease_seconds - margin
    for index, row in enumerate(rows):
        if index and time.monotonic() > deadline:
            ledger.release(OutboxMessage, lease, untouched)
            return True
        # From here the row is in flight: never given back unsent, whatever happens.
        untouched.discard(row.id)
        if row.id in moot:
            _finish(ledger, row.id, lease, status="skipped", last_error=moot[row.id])
            report.skipped += 1
            continue
        try:
            with request_ids.handling(row.request_id):
                # The id in the text too: a plain-text log (no JSON) still ties it to its cause.
                log.info(
                    "outbox: sending message %s (%s) queued by request %s",
                    row.id,
                    row.kind,
                    row.request_id or "-",
                )
                post.send(row.message_id, row.recipient, dated(row.content, now))
        except Permanent as exc:
            _finish(ledger, row.id, lease, status="failed", last_error=str(exc), attempted=True)
            report.failed += 1
        except Transient as exc:
            if not exc.connection:
                _retry(ledger, [row], lease, now, str(exc), report)
                continue
            _retry(ledger, rows[index:], lease, now, str(exc), report)
            untouched.clear()
            log.warning("outbox: %s; will retry", exc)
            return False
        else:
            report.sent += 1
            _finish(ledger, row.id, lease, status="sent", sent_at=now, attempted=True)
    return True


def _moot_reminders(ids: list[int], now: datetime) -> dict[int, str]:
    """Reminders that must not go out any more: cancelled, moved or already started, or the
    registrant unsubscribed meanwhile."""
    return _moot(
        ids,
        "not sent: the registration was cancelled, the event moved or began, or the "
        "registrant unsubscribed",
        Registration.status == "confirmed",
        Event.status == "published",
        Event.starts_at == OutboxMessage.event_starts_at,
        Event.starts_at > now,
        not_unsubscribed(),
    )


def _moot_post_event(ids: list[int]) -> dict[int, str]:
    """Post-event emails the registrant no longer wants (unsubscribed, consent withdrawn) or
    the event no longer sends (turned off, cancelled)."""
    return _moot(
        ids,
        "not sent: the registrant unsubscribed, or the event's post-event emails were "
        "turned off or it was cancelled",
        Registration.status == "confirmed",
        Event.status == "published",
        Event.post_event_emails.is_(True),
        not_unsubscribed(),
    )


def _moot_verifications(ids: list[int]) -> dict[int, str]:
    """Verification letters (double opt-in) for registrations no longer unverified: already
    verified through an earlier letter, expired or cancelled."""
    return _moot(
        ids,
        "not sent: the registration was verified, cancelled or expired meanwhile",
        Registration.status == "unverified",
    )


def _moot(ids: list[int], reason: str, *still_wanted_if: ColumnElement[bool]) -> dict[int, str]:
    """The rows among `ids` whose registration (and event) no longer meet `still_wanted_if`."""
    if not ids:
        return {}
    still_wanted = set(
        db.session.scalars(
            select(OutboxMessage.id)
            .join(Registration, Registration.id == OutboxMessage.registration_id)
            .join(Event, Event.id == Registration.event_id)
            .where(OutboxMessage.id.in_(ids), *still_wanted_if)
        )
    )
    return {id_: reason for id_ in ids if id_ not in still_wanted}


def _finish(
    ledger: leasing.Ledger,
    row_id: int,
    lease: str,
    *,
    status: str,
    last_error: str | None = None,
    sent_at: datetime | None = None,
    attempted: bool = False,
) -> None:
    ledger.settle(
        OutboxMessage,
        row_id,
        lease,
        status=status,
        attempts=OutboxMessage.attempts + int(attempted),
        last_error=last_error[:2000] if last_error else None,
        sent_at=sent_at,
    )


def _retry(
    ledger: leasing.Ledger, rows: Any, lease: str, now: datetime, error: str, report: Report
) -> None:
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    for row in rows:
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
        if attempts >= max_attempts:
            values["status"] = "failed"
            report.failed += 1
        else:
            values["status"] = "pending"
            values["next_attempt_at"] = now + retry_delay(attempts)
            report.retried += 1
        ledger.settle(OutboxMessage, row.id, lease, **values)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling up to the cap, each within ±20 %."""
    config = current_app.config
    return leasing.retry_delay(
        attempts, float(config["MAIL_RETRY_BASE_SECONDS"]), float(config["MAIL_RETRY_CAP_SECONDS"])
    )


def failed_messages(limit: int = 100) -> list[OutboxMessage]:
    """Messages given up on, newest first, with `last_error` saying why (for the console)."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def requeue_failed(message_id: int) -> bool:
    """Try a failed message once more at the worker's next pass (the same Message-ID); one
    that failed before it was written is written again. False when it is not failed (any
    more). Committed."""
    written = OutboxMessage.content.is_not(None)
    done = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
        .values(
            status=case((written, "pending"), else_="unwritten"),
            next_attempt_at=utcnow(),
            last_error=None,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is not None:
        wake_after_commit()
    db.session.commit()
    return done is not None
