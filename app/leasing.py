"""What every job the worker runs over leased rows shares (mail, webhook deliveries, platform
calls): leasing due rows to one run, recording each outcome, giving back what a failed run did
not do, and the wait after a failed attempt.

A leased table has `id`, `status` (`pending` / `sending` / …), `next_attempt_at`, `lease` and
`locked_until`. A row is claimed by one conditional UPDATE (still pending and due, or its lease
expired), so two workers never hold the same row, and the rows of a worker killed mid-batch go
back into play once their lease runs out.

The discipline, for exactly-once where it can be:
- each outcome is recorded in its own short transaction right after the outside world
  accepted the row (`Ledger.settle`, `persist`), only while our lease holds;
- a failure to record it is retried through a database blip (a restart, a dropped connection,
  a locked SQLite file): a few tries, a short back-off, a fresh connection each time;
- an outcome that still could not be recorded is kept in this process and recorded first thing
  on the next claim, so even a longer outage resends nothing while the worker lives;
- a run that fails gives back what it did not do at once (`release`), instead of leaving it
  to wait for its lease; only the row in flight waits (and may be sent twice if the worker
  dies before its outcome is recorded).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Executable, and_, or_, select, true, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.db import db, utcnow, writing

log = logging.getLogger(__name__)

T = TypeVar("T")

# How hard an outcome is pressed through a database blip: this many tries, the pause doubling
# from the first (0.2 + 0.4 + … ≈ 6 s in all, enough for a PostgreSQL restart), and on SQLite
# how long one try waits for the write lock before it counts as failed.
TRIES = 6
FIRST_PAUSE = 0.2
SQLITE_LOCK_WAIT_MS = 1000
# What app.db gives every SQLite connection, given back after a try's shorter wait.
_SQLITE_BUSY_TIMEOUT_MS = 30000


def due(model: Any, now: datetime) -> ColumnElement[bool]:
    """Rows to take at `now`: pending and due, or leased to a run whose lease has run out."""
    return or_(
        and_(model.status == "pending", model.next_attempt_at <= now),
        and_(model.status == "sending", model.locked_until <= now),
    )


def claim(
    model: Any,
    limit: int,
    now: datetime,
    seconds: int,
    *,
    among: ColumnElement[bool] = true(),  # noqa: B008 (an immutable SQL constant)
) -> tuple[str, list[int]]:
    """Lease up to `limit` due rows of `model` for `seconds`; the lease and the ids it won.
    `among` narrows the rows that may be taken (a paused receiver's are not).

    The UPDATE repeats the due condition, so a row another worker claimed in the meantime is
    not taken again; on PostgreSQL SKIP LOCKED also keeps two workers off the same rows.
    """
    if owed():
        settle_owed()
    lease = secrets.token_hex(16)
    with writing():
        candidates = list(
            db.session.scalars(
                select(model.id)
                .where(due(model, now), among)
                .order_by(model.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not candidates:
            return lease, []
        won = db.session.execute(
            update(model)
            .where(model.id.in_(candidates), due(model, now))
            .values(status="sending", lease=lease, locked_until=now + timedelta(seconds=seconds))
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(won.scalars())
    return lease, ids


def drain(
    model: Any,
    limit: int,
    seconds: int,
    now: datetime,
    work: Callable[[str, datetime], int],
    among: ColumnElement[bool] = true(),  # noqa: B008 (an immutable SQL constant)
) -> int:
    """Lease the due rows of `model` that `among` admits a batch at a time and
    give each lease to `work(lease, moment)`, until no row is due; the sum of what `work`
    returned. When `work` fails, the rows it left under the lease are given back at once.

    The moment is the pass's, or the clock if later: rows the jobs before this one wrote during
    the pass are due too. A row retried "now" (a 0 s back-off) is left to the next pass, not
    spun on here.
    """
    done = 0
    seen: set[int] = set()
    while True:
        moment = max(now, utcnow())
        lease, ids = claim(model, limit, moment, seconds, among=among)
        if not ids or seen.issuperset(ids):
            return done
        seen.update(ids)
        try:
            done += work(lease, moment)
        except BaseException:
            # What the run did not get to goes back at once, not when the lease runs out.
            db.session.rollback()
            with Ledger() as ledger, suppress(Unsettled):
                ledger.release(model, lease)  # kept for the next claim if it cannot be
            raise


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """The wait after the `attempts`th failure (1, 2, …): doubling from `base` up to `cap`,
    each within ±20 % so that what failed together does not all come back in the same second."""
    seconds = min(base * 2 ** (attempts - 1), cap)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class Unsettled(Exception):
    """An outcome could not be recorded through every try; it is kept in this process and
    recorded on the next claim (`settle_owed`)."""


def transient(error: BaseException) -> bool:
    """Whether a database error is a blip worth another try on a fresh connection: the server
    went away or is restarting, the connection was dropped, the SQLite file is locked."""
    if not isinstance(error, DBAPIError):
        return False
    return bool(error.connection_invalidated) or isinstance(
        error, OperationalError | InterfaceError
    )


def pause_before(attempt: int) -> None:
    time.sleep(FIRST_PAUSE * 2**attempt)


def persist(write: Callable[..., T], *args: Any, what: str = "outcome") -> T:
    """Run `write(*args)` in the session and commit it as one short transaction, retried through a
    database blip (rolled back, a short pause, again on a fresh connection).

    `write` must be safe to run again after a rollback: an outcome guarded by its lease is (a
    second run finds the lease gone and changes nothing).
    """
    for attempt in range(TRIES):
        try:
            result = write(*args)
            db.session.commit()
            return result
        except DBAPIError as error:
            db.session.rollback()
            if not transient(error) or attempt == TRIES - 1:
                raise
            log.warning("recording %s failed (%s); trying again", what, error.orig)
            # The pool dropped a connection the server had closed; the next try checks out
            # another one (and pool_pre_ping makes sure it answers).
            db.session.close()
            pause_before(attempt)
    raise AssertionError("unreachable")


class Ledger:
    """Where a run records outcomes: each statement its own short transaction, on one
    connection kept for the run (no pool checkout per row); a failed one is tried again on a
    fresh connection after a short pause. On PostgreSQL a statement commits by itself (one
    round trip); SQLite commits explicitly, as app.db's BEGIN handling expects.
    """

    def __init__(self) -> None:
        self._connection: Connection | None = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def execute(
        self, statement: Executable, params: Mapping[str, Any] | None = None, *, owe: bool = True
    ) -> int:
        """Run one statement in its own transaction; how many rows it changed. When every try
        failed and `owe` is set, the statement is kept for the next claim and Unsettled is
        raised."""
        for attempt in range(TRIES):
            try:
                connection = self._connect()
                changed = connection.execute(statement, dict(params or {})).rowcount
                connection.commit()
                return int(changed)
            except DBAPIError as error:
                self._drop()
                if not transient(error):
                    raise
                if attempt == TRIES - 1:
                    if owe:
                        _owe(statement, params)
                        raise Unsettled(str(error.orig)) from error
                    raise
                log.warning("recording an outcome failed (%s); trying again", error.orig)
                pause_before(attempt)
        raise AssertionError("unreachable")

    def settle(self, model: Any, row_id: int, lease: str, **values: Any) -> bool:
        """Record the outcome of one leased row while our lease holds (a row that went back
        into play is no longer ours); False when it was not ours any more."""
        table = model.__table__
        statement = (
            table.update()
            .where(table.c.id == row_id, table.c.lease == lease)
            .values(lease=None, locked_until=None, **values)
        )
        try:
            return self.execute(statement) == 1
        except Unsettled:
            with _owed_lock:
                _owed_rows.add((table.name, row_id))
            raise

    def release(self, model: Any, lease: str, ids: Collection[int] | None = None) -> int:
        """Give back unsent the rows held under `lease` (those of `ids`, or all), as they were:
        pending, due when they were due, their attempts unchanged. Rows whose outcome is owed
        (sent, not yet recorded) stay held."""
        table = model.__table__
        where = [table.c.lease == lease, table.c.status == "sending"]
        if ids is not None:
            if not ids:
                return 0
            where.append(table.c.id.in_(sorted(ids)))
        with _owed_lock:
            keep = sorted(row_id for name, row_id in _owed_rows if name == table.name)
        if keep:
            where.append(table.c.id.not_in(keep))
        statement = (
            table.update().where(*where).values(status="pending", lease=None, locked_until=None)
        )
        return self.execute(statement)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _restore_sqlite_wait(connection)
            connection.close()

    def _connect(self) -> Connection:
        if self._connection is None:
            connection = db.engine.connect()
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                # A try waits a moment for the lock, not app.db's 30 s: the retries' pauses
                # give the same patience, without a message in flight stuck behind a lock.
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
                connection.commit()
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with suppress(DBAPIError):
            connection.rollback()
        connection.invalidate()
        connection.close()


def _restore_sqlite_wait(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    try:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        connection.commit()
    except DBAPIError:
        connection.invalidate()


# Outcomes every try failed to record, kept until the database answers again: (statement,
# parameters), oldest first. Each is guarded by its lease, so one recorded late changes nothing
# once the row went back into play.
_owed: list[tuple[Executable, Mapping[str, Any] | None]] = []
# The rows those outcomes are for, (table, id): sent, so never given back unsent.
_owed_rows: set[tuple[str, int]] = set()
_owed_lock = threading.Lock()


def _owe(statement: Executable, params: Mapping[str, Any] | None) -> None:
    with _owed_lock:
        _owed.append((statement, params))
    log.error("an outcome could not be recorded; kept to record on the next claim")


def owed() -> int:
    """How many outcomes this process still owes the database."""
    with _owed_lock:
        return len(_owed)


def settle_owed() -> int:
    """Record the outcomes kept from an outage, oldest first; how many were recorded. Stops at
    the first that still fails (the database is still away), keeping it and the rest."""
    recorded = 0
    with Ledger() as ledger:
        while True:
            with _owed_lock:
                if not _owed:
                    return recorded
                statement, params = _owed[0]
            try:
                ledger.execute(statement, params, owe=False)
            except DBAPIError:
                log.warning("owed outcomes still cannot be recorded; %s kept", owed())
                return recorded
            with _owed_lock:
                _owed.pop(0)
                if not _owed:
                    _owed_rows.clear()
            recorded += 1
