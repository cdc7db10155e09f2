"""Exactly-once where it can be: each message is marked sent in its own short transaction right
after the SMTP server accepts it, the mark is retried through a database blip, and a batch the
database stopped gives its unsent messages back at once rather than leaving them to its lease.

The faults are real: on SQLite another connection holds the database's write lock; on
PostgreSQL the database refuses connections and the worker's are terminated
(`pg_terminate_backend`), as in a restart. Both run against the real SMTP server fixture.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import leasing
from app.config import Config
from app.db import utcnow
from app.mail.delivery import claim, deliver_due
from tests.builders import make_event
from tests.test_mail_delivery import assert_each_delivered_once, register_many, rows


@pytest.fixture
def app_config(app_config, smtp_server):  # type: ignore[no-untyped-def]
    return {**app_config, **smtp_server.mail_config}


@pytest.fixture(autouse=True)
def _nothing_owed_between_tests():  # type: ignore[no-untyped-def]
    yield
    with leasing._owed_lock:
        leasing._owed.clear()
        leasing._owed_rows.clear()


@pytest.fixture
def leasing_log(caplog, monkeypatch):  # type: ignore[no-untyped-def]
    # The migrations' logging.config.fileConfig disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("app.leasing"), "disabled", False)
    monkeypatch.setattr(logging.getLogger("app.mail.delivery"), "disabled", False)
    caplog.set_level(logging.WARNING)
    return caplog


class Database:
    """The test database, taken away from the app and given back for real."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._lock: sqlite3.Connection | None = None
        self._admin = None
        if self.url.get_backend_name() == "postgresql":
            self._admin = create_engine(
                self.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
            )

    def down(self) -> None:
        """SQLite: another connection takes the write lock and keeps it. PostgreSQL: the
        database refuses new connections and every open one is terminated."""
        if self._admin is None:
            self._lock = sqlite3.connect(
                str(self.url.database), isolation_level=None, check_same_thread=False
            )
            self._lock.execute("BEGIN EXCLUSIVE")
            return
        with self._admin.connect() as conn:
            name = self.url.database
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )

    def up(self) -> None:
        if self._admin is None:
            if self._lock is not None:
                self._lock.execute("ROLLBACK")
                self._lock.close()
                self._lock = None
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS true'))

    def blip(self, seconds: float) -> None:
        """Down now, back by itself after `seconds` (a restart)."""
        self.down()
        threading.Timer(seconds, self.up).start()

    def close(self) -> None:
        self.up()
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture
def database(database_url):  # type: ignore[no-untyped-def]
    handle = Database(database_url)
    yield handle
    handle.close()


def test_a_database_blip_after_a_message_is_accepted_is_ridden_out_and_nothing_is_sent_twice(
    app, smtp_server, database, leasing_log
):
    register_many(make_event(), 6)
    # The third message is accepted, then the database goes away for longer than one try of
    # the mark (SQLite: 1 s lock wait) and comes back, as after a quick restart.
    smtp_server.on_accept = lambda count: database.blip(1.5) if count == 3 else None

    report = deliver_due(now=utcnow())

    assert report.sent == 6
    assert "trying again" in leasing_log.text, "the fault did not reach the mark"
    assert {row.status for row in rows()} == {"sent"}
    assert len(smtp_server.received) == 6
    assert_each_delivered_once(smtp_server)
    assert leasing.owed() == 0


def test_a_database_away_past_every_try_resends_nothing_and_releases_the_rest_at_once(
    app, smtp_server, database, leasing_log, monkeypatch
):
    monkeypatch.setattr(leasing, "TRIES", 2)
    monkeypatch.setattr(leasing, "FIRST_PAUSE", 0.05)
    register_many(make_event(), 6)
    smtp_server.on_accept = lambda count: database.down() if count == 3 else None
    started = utcnow()

    first = deliver_due(now=started)  # the run stops; it does not crash the worker

    assert len(smtp_server.received) == 3
    assert first.sent == 3
    assert "cannot record outcomes" in leasing_log.text
    # The mark of the message in flight, and the giving back of the three unsent, are owed.
    assert leasing.owed() == 2
    database.up()
    statuses = Counter(row.status for row in rows())
    assert statuses == {"sent": 2, "sending": 4}

    # The next run, well inside the lease: the owed mark goes in first (no resend of the
    # message in flight), and the three given back go out now, not after the lease.
    again = deliver_due(now=utcnow())

    assert again.sent == 3
    assert leasing.owed() == 0
    assert {row.status for row in rows()} == {"sent"}
    assert len(smtp_server.received) == 6
    assert_each_delivered_once(smtp_server)
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    assert utcnow() - started < lease / 10


def test_batch_size_and_lease_length_come_from_configuration(app, smtp_server):
    app.config.update(OUTBOX_BATCH_SIZE=2, OUTBOX_LEASE_SECONDS=45)
    register_many(make_event(), 5)
    now = utcnow()

    lease, ids = claim(int(app.config["OUTBOX_BATCH_SIZE"]), now)

    assert len(ids) == 2
    held = [row for row in rows() if row.lease == lease]
    assert [row.locked_until for row in held] == [now + timedelta(seconds=45)] * 2
    assert deliver_due(now=now + timedelta(seconds=46)).sent == 5
    assert_each_delivered_once(smtp_server)


def test_outbox_settings_are_read_from_the_environment_and_a_bad_one_is_named(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("OUTBOX_BATCH_SIZE", "25")
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "90")
    config = Config(str(tmp_path))
    assert (config.OUTBOX_BATCH_SIZE, config.OUTBOX_LEASE_SECONDS) == (25, 90)

    for bad in ("0", "ten", "-5"):
        monkeypatch.setenv("OUTBOX_LEASE_SECONDS", bad)
        with pytest.raises(ValueError, match="OUTBOX_LEASE_SECONDS"):
            Config(str(tmp_path))


def test_a_message_in_flight_when_the_database_went_away_is_the_only_one_a_dead_worker_resends(
    app, smtp_server, database, monkeypatch
):
    """The worker dies while the database is away: its owed mark dies with it, so after the
    lease the message in flight goes out a second time (same Message-ID), and only it."""
    monkeypatch.setattr(leasing, "TRIES", 2)
    monkeypatch.setattr(leasing, "FIRST_PAUSE", 0.05)
    register_many(make_event(), 4)
    smtp_server.on_accept = lambda count: database.down() if count == 2 else None
    deliver_due(now=utcnow())
    database.up()
    with leasing._owed_lock:  # the process that owed them is gone
        leasing._owed.clear()
        leasing._owed_rows.clear()

    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    deliver_due(now=utcnow() + lease + timedelta(seconds=1))

    assert {row.status for row in rows()} == {"sent"}
    received = Counter(smtp_server.message_ids())
    assert set(received) == {row.message_id for row in rows()}
    assert [n for n in received.values() if n > 1] == [2]
