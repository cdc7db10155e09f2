"""Mail at scale: the worker sending 10,000 confirmations to a local SMTP server, beside smtplib
sending the same prebuilt messages over one connection to the same server.

    .venv/bin/python bench/mail.py [--messages 10000] [--repeat 2]

The SMTP server is aiosmtpd's Sink in its own process (it accepts and drops every message).
The worker claims rows under a lease, sends each over one kept-open connection and commits
each as sent: the reference does only the sending. Setup composes a few hundred real
confirmations (timed: the cost a registration pays) and copies them, with their own
Message-ID and recipient, to fill the outbox quickly. Then the worker's peak Python memory
(tracemalloc) while sending 2,500, 5,000 and 10,000 messages shows it streams in batches.
Runs on a temporary SQLite file, or a throwaway PostgreSQL database beside DATABASE_URL.
Target: the worker within 2x of the reference.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, update  # noqa: E402

from bench.databases import empty_databases  # noqa: E402

TARGET = 2.0
COMPOSED = 300  # confirmations composed for real; the rest are copies of these


@contextmanager
def smtp_sink() -> Iterator[int]:
    """aiosmtpd's Sink on a free local port, in a process of its own; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        empty_databases(Path(tmp), "mail") as (kind, (url,)),
        smtp_sink() as port,
    ):
        from flask_migrate import upgrade

        from app import create_app
        from app.db import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
                "MAIL_WAKE_WORKER": False,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": port,
                "TESTING": True,
            }
        )
        with app.app_context():
            upgrade()
            print(f"Database: {kind}; SMTP server: aiosmtpd Sink (own process)")
            fill_outbox(db, args.messages)
            ratio = bench_sending(db, args.messages, args.repeat, port)
            bench_memory(db, [args.messages // 4, args.messages // 2, args.messages])
            db.session.remove()
            db.engine.dispose()
    print(f"\nTarget (worker <= {TARGET:g}x smtplib): {'met' if ratio <= TARGET else 'NOT met'}")
    sys.exit(0 if ratio <= TARGET else 1)


def fill_outbox(db: Any, count: int) -> None:
    from app.mail.letters import write_unwritten
    from app.mail.models import OutboxMessage
    from app.mail.outbox import queue, request_draft
    from app.mail.receivers import seat_key
    from app.registrations.models import Registration
    from tests.builders import make_event
    from tests.followup_fixtures import bulk_registrants

    event = make_event(slug="bench-mail", title="Quarterly product update")
    bulk_registrants(event, count, email=lambda i: f"person{i}@company{i % 997}.example")
    registrations = db.session.execute(
        select(Registration.id, Registration.email).order_by(Registration.id)
    ).all()

    start = time.perf_counter()
    for chunk in range(0, COMPOSED, 100):
        ids = [r.id for r in registrations[chunk : chunk + 100]]
        drafts = [
            request_draft("confirmation", registration, seat_key(registration))
            for registration in db.session.scalars(
                select(Registration).where(Registration.id.in_(ids))
            )
        ]
        queue(drafts)
        db.session.commit()
    write_unwritten()  # the worker's step that composes what the transactions recorded
    composed = time.perf_counter() - start
    print(
        f"\nComposing a confirmation (templates, invite, MIME) and adding it to the outbox:"
        f" {composed / COMPOSED * 1000:.1f} ms each"
    )

    samples = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.message_id, OutboxMessage.content)
    ).all()
    template = db.session.execute(select(OutboxMessage).limit(1)).scalar_one()
    rows = []
    for n, registration in enumerate(registrations[COMPOSED:]):
        sample = samples[n % len(samples)]
        message_id = f"<bench{n:08d}{uuid.uuid4().hex[:8]}@localhost>"
        content = sample.content.replace(sample.message_id.encode(), message_id.encode()).replace(
            sample.recipient.encode(), registration.email.encode()
        )
        rows.append(
            {
                "dedupe_key": f"bench:{registration.id}",
                "message_id": message_id,
                "kind": "confirmation",
                "recipient": registration.email,
                "subject": template.subject,
                "registration_id": registration.id,
                "event_id": event.id,
                "content": content,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": template.next_attempt_at,
                "created_at": template.created_at,
            }
        )
        if len(rows) == 1000:
            db.session.execute(insert(OutboxMessage), rows)
            rows = []
    if rows:
        db.session.execute(insert(OutboxMessage), rows)
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    average = db.session.scalar(select(func.avg(func.length(OutboxMessage.content))))
    print(f"Outbox: {total:,} confirmations with invites, {average / 1024:.1f} KiB each on average")


def reset(db: Any, count: int) -> None:
    """Put the first `count` rows back to pending and the rest out of the way (sent)."""
    from app.mail.models import OutboxMessage

    first = select(OutboxMessage.id).order_by(OutboxMessage.id).limit(count)
    db.session.execute(update(OutboxMessage).values(status="sent", lease=None, locked_until=None))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(first))
        .values(status="pending", attempts=0, sent_at=None)
    )
    db.session.commit()


def bench_sending(db: Any, count: int, repeat: int, port: int) -> float:
    from app.mail.compose import dated
    from app.mail.delivery import deliver_due
    from app.mail.models import OutboxMessage

    prebuilt = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.content).order_by(OutboxMessage.id)
    ).all()
    db.session.commit()

    def reference() -> float:
        from datetime import UTC, datetime

        start = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", port)
        for recipient, content in prebuilt:
            smtp.sendmail("events@localhost", [recipient], dated(content, datetime.now(UTC)))
        smtp.quit()
        return time.perf_counter() - start

    def worker() -> float:
        reset(db, count)
        start = time.perf_counter()
        report = deliver_due()
        elapsed = time.perf_counter() - start
        assert report.sent == count, report
        return elapsed

    references, workers = [], []
    for _ in range(repeat):
        references.append(reference())
        workers.append(worker())
    ours, theirs = min(workers), min(references)
    ratio = ours / theirs
    print(f"\nSending {count:,} messages to the local SMTP server (best of {repeat})")
    print(f"  worker (claim, send, commit each): {ours:7.2f} s  {count / ours:7.0f} msg/s")
    print(f"  reference, smtplib one connection: {theirs:7.2f} s  {count / theirs:7.0f} msg/s")
    print(f"  ratio:                             {ratio:7.2f}x  (target <= {TARGET:g}x)")
    return ratio


def bench_memory(db: Any, sizes: list[int]) -> None:
    from app.mail.delivery import deliver_due

    print("\nWorker peak Python memory while sending (tracemalloc)")
    for size in sizes:
        reset(db, size)
        tracemalloc.start()
        report = deliver_due()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.sent == size, report
        print(f"  {size:6,} messages: {peak / 1024 / 1024:6.2f} MiB")


if __name__ == "__main__":
    main()
