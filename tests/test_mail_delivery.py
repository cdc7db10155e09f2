"""Delivery loses nothing and sends nothing twice: SMTP outages, refusals, two workers at
once, a worker killed mid-batch, and the worker processes `flask worker` and `flask serve`
start. Everything runs against a real SMTP server on a local port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.mail.delivery import claim, deliver_due, failed_messages, retry_delay
from app.mail.letters import write_unwritten
from app.mail.models import OutboxMessage
from app.worker import queue_for
from tests.builders import make_event, register_person
from tests.servers import ROOT, app_env
from tests.smtp import SmtpSink


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


def register_many(event, count, prefix="guest"):  # type: ignore[no-untyped-def]
    """Register `count` people and let the worker write their confirmations, ready to send."""
    for number in range(count):
        register_person(event, f"{prefix}{number}@example.com")
    write_unwritten()


def rows() -> list[OutboxMessage]:
    db.session.rollback()  # a fresh look: other workers may have written since
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def assert_each_delivered_once(sink: SmtpSink) -> None:
    stored = {row.message_id for row in rows()}
    received = Counter(sink.message_ids())
    assert set(received) == stored
    assert [mid for mid, n in received.items() if n > 1] == []


def test_an_smtp_outage_keeps_every_message_and_each_is_delivered_once_afterwards(app, smtp_server):
    event = make_event()
    smtp_server.stop()
    register_many(event, 3, "early")
    t0 = utcnow()

    report = deliver_due(now=t0)
    assert (report.sent, report.retried) == (0, 3)
    for row in rows():
        assert row.status == "pending" and row.attempts == 1
        assert t0 + timedelta(seconds=20) <= row.next_attempt_at <= t0 + timedelta(seconds=40)
        assert "cannot reach" in (row.last_error or "")

    register_many(event, 2, "during")  # registrations keep coming while the server is down
    t1 = utcnow()
    assert deliver_due(now=t1).retried == 2
    assert deliver_due(now=t1).retried == 0  # nothing is due before its backoff ends
    assert smtp_server.received == []

    smtp_server.start()
    assert deliver_due(now=t1).sent == 0  # still backing off
    moment = t1
    while any(row.status != "sent" for row in rows()):
        moment += timedelta(minutes=1)
        deliver_due(now=moment)
        assert moment < t0 + timedelta(hours=1), "the outbox never drained"
    assert len(smtp_server.received) == 5
    assert_each_delivered_once(smtp_server)
    assert all(row.last_error is None and row.sent_at is not None for row in rows())


def test_retry_delays_double_from_30_seconds_up_to_a_cap_with_jitter(app):
    for attempts, nominal in [(1, 30), (2, 60), (3, 120), (4, 240)]:
        seconds = retry_delay(attempts).total_seconds()
        assert nominal * 0.8 <= seconds <= nominal * 1.2
    cap = app.config["MAIL_RETRY_CAP_SECONDS"]
    assert retry_delay(40).total_seconds() <= cap * 1.2


def test_a_message_is_given_up_after_the_last_attempt_and_listed_for_staff(app, smtp_server):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    smtp_server.stop()
    register_person(make_event(), "ada@example.com")
    write_unwritten()
    t0 = utcnow()
    for day in range(3):
        assert failed_messages() == []
        deliver_due(now=t0 + timedelta(days=day))
    (failed,) = failed_messages()
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.recipient == "ada@example.com"
    assert "cannot reach" in (failed.last_error or "")
    smtp_server.start()
    deliver_due(now=t0 + timedelta(days=9))
    assert smtp_server.received == []  # given up means not retried behind staff's back


def test_a_recipient_the_server_refuses_fails_at_once_and_the_others_still_go(app, smtp_server):
    smtp_server.refused.add("nobody@example.com")
    event = make_event()
    register_person(event, "nobody@example.com")
    register_person(event, "ada@example.com")
    write_unwritten()
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    (failed,) = failed_messages()
    assert failed.recipient == "nobody@example.com" and failed.attempts == 1
    assert (failed.last_error or "").startswith("550")
    assert len(smtp_server.to("ada@example.com")) == 1


def test_two_workers_draining_the_same_outbox_send_each_message_once(app, smtp_server):
    register_many(make_event(), 60)
    smtp_server.delay = 0.003
    start = threading.Barrier(2)
    reports = []

    def work() -> None:
        with app.app_context():
            start.wait()
            reports.append(deliver_due(batch_size=4))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert [r.sent > 0 for r in reports] == [True, True], "both workers took part"
    assert sum(r.sent for r in reports) == 60
    assert len(smtp_server.received) == 60
    assert_each_delivered_once(smtp_server)


def test_a_lease_left_by_a_crashed_worker_is_taken_over_with_the_same_message_id(app, smtp_server):
    register_many(make_event(), 3)
    now = utcnow()
    _, abandoned = claim(10, now)  # a worker claims, then dies before sending
    assert len(abandoned) == 3
    assert deliver_due(now=now).sent == 0  # the lease still holds
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    assert deliver_due(now=now + lease + timedelta(seconds=1)).sent == 3
    assert_each_delivered_once(smtp_server)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(
    app, smtp_server, database_url, tmp_path
):
    register_many(make_event(), 30)
    smtp_server.delay = 0.05
    env = app_env(
        database_url,
        tmp_path / "worker-instance",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        smtp_server.wait_for(5, timeout=60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the worker said: {log.read_text()}") from None
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL, log.read_text()
    statuses = Counter(row.status for row in rows())
    assert statuses["sending"] > 0, f"the kill came too late: {statuses}; {log.read_text()}"

    smtp_server.delay = 0
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    deliver_due(now=utcnow() + lease + timedelta(seconds=1))
    assert {row.status for row in rows()} == {"sent"}
    received = Counter(smtp_server.message_ids())
    assert set(received) == {row.message_id for row in rows()}
    # Only the message in flight at the kill may arrive twice, and then as the same message.
    assert sum(n - 1 for n in received.values()) <= 1


def test_worker_burst_queues_due_reminders_and_sends_everything_due(app, smtp_server, runner):
    now = utcnow()
    event = make_event(starts_at=(now + timedelta(minutes=30)).replace(microsecond=0))
    register_person(event, "ada@example.com", now=now - timedelta(hours=2))
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "reminders: 1" in result.output and "sent: 2" in result.output
    subjects = [m["Subject"] for m in smtp_server.to("ada@example.com")]
    assert subjects == ["You're registered: Launch webinar", "Starts in 30 minutes: Launch webinar"]
    assert (
        runner.invoke(args=["worker", "--burst"])
        .output.strip()
        .endswith("sent: 0, retried: 0, failed: 0")
    )


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_a_commit_that_adds_mail_wakes_the_worker_through_its_queue(app, smtp_server, store):
    if store == "redis":
        app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", HUEY_NAME=f"t-{uuid.uuid4().hex}")
    huey = queue_for(app)
    try:
        assert huey.pending_count() == 0
        event = make_event()
        register_person(event, "ada@example.com")
        register_person(event, "bob@example.com")
        assert huey.pending_count() == 1  # one waiting wake covers both
        huey.execute(huey.dequeue())  # what the consumer process does
        assert len(smtp_server.to("bob@example.com")) == 1
        assert len(smtp_server.to("ada@example.com")) == 1
        assert [row.status for row in rows()] == ["sent", "sent"]
    finally:
        huey.flush()


def test_serve_runs_the_worker_beside_the_site_and_stops_it_on_exit(app, database_url, tmp_path):
    register_person(make_event(), "ada@example.com")
    instance = tmp_path / "serve-instance"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port)],
            cwd=ROOT,
            env=app_env(database_url, instance),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        outbox = instance / "outbox"
        deadline = time.monotonic() + 60
        while not (outbox.exists() and list(outbox.glob("*.eml"))):
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker never sent the mail: " + log.read_text()
            time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    output = log.read_text()
    pid = int(output.split("Background worker running (pid ")[1].split(")")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert [row.status for row in rows()] == ["sent"]
    assert Path(outbox / f"{rows()[0].message_id.strip('<>')}.eml").exists()
