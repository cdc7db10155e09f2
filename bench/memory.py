"""Peak memory of the streaming registration export and the attendance import, at three sizes.

    .venv/bin/python bench/memory.py [--sizes 5000,20000,50000] [--walk-ins]

For each size, one event gets that many registrations (written in bulk, not through the
public path, which `bench/registration.py` measures), then the console's CSV export is read
to its end and an attendance report with a row per registrant is imported. Python's peak
allocation during each (tracemalloc) is printed; streaming keeps it flat as the size grows,
where reading everything at once would grow with it. With --walk-ins the report lists people
who never registered instead, so that every row makes a walk-in (a lead and a registration).
Uses a temporary SQLite file, or a throwaway PostgreSQL database next to DATABASE_URL when it
names one.
"""

from __future__ import annotations

import argparse
import io
import logging
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import empty_databases  # noqa: E402


def seed(event_id: int, size: int, now: Any) -> None:
    """`size` confirmed registrations of `event_id`, each with its lead, in bulk."""
    from sqlalchemy import insert, select, text

    from app.db import db
    from app.registrations.models import Lead, Registration

    batch = 5000
    for start in range(0, size, batch):
        emails = [f"person{n:06d}@example.com" for n in range(start, min(size, start + batch))]
        db.session.execute(
            insert(Lead.__table__),
            [{"email": e, "created_at": now, "updated_at": now} for e in emails],
        )
        ids = dict(
            db.session.execute(
                select(Lead.__table__.c.email, Lead.__table__.c.id).where(
                    Lead.__table__.c.email.in_(emails)
                )
            ).all()
        )
        db.session.execute(
            insert(Registration.__table__),
            [
                {
                    "event_id": event_id,
                    "lead_id": ids[e],
                    "email": e,
                    "email_normalized": e,
                    "first_name": "Person",
                    "status": "confirmed",
                    "manage_token": secrets.token_urlsafe(24),
                    "created_at": now,
                }
                for e in emails
            ],
        )
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would have by then for a real event of this size: without statistics
        # the planner scans every registration for each batch's lookup by email.
        db.session.execute(text("ANALYZE registrations"))
        db.session.commit()


def report_file(size: int, event: Any, person: str = "person") -> bytes:
    """An attendee report (Zoom's columns) with one row per seeded registrant (per walk-in when
    `person` names others)."""
    starts = event.starts_at  # the event's zone is UTC
    joined = starts.strftime("%m/%d/%Y %I:%M:%S %p")
    left = (starts + timedelta(minutes=45)).strftime("%m/%d/%Y %I:%M:%S %p")
    head = "Email,Join Time,Leave Time,Time in Session (minutes)\n"
    rows = (f"{person}{n:06d}@example.com,{joined},{left},45\n" for n in range(size))
    return (head + "".join(rows)).encode()


def peak(work: Callable[[], Any]) -> tuple[float, float]:
    """Python's peak allocation during `work` above what was held before it, in MB; seconds."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return (tracemalloc.get_traced_memory()[1] - before) / 1e6, seconds


def measure(
    url: str, instance: Path, size: int, walk_ins: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    from flask_migrate import upgrade

    from app import create_app
    from app.admin.tables import RegistrationQuery, export_csv
    from app.db import db, utcnow
    from app.events.services import create_event, update_event
    from app.followup.attendance import import_attendance

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        # Alembic's lines would break up the table printed.
        logging.disable(logging.INFO)
        upgrade()
        logging.disable(logging.NOTSET)
        now = utcnow().replace(microsecond=0)
        event = create_event(
            {
                "slug": f"memory-{size}",
                "title": "Memory benchmark",
                "description": "",
                "starts_at": now - timedelta(hours=2),
                "duration_minutes": 60,
                "timezone": "UTC",
                "capacity": None,
                "waitlist": False,
                "join_url": "https://meet.example.com/memory",
                "campaign": "Benchmarks",
            }
        )
        update_event(event, {"status": "published"})
        seed(event.id, size, now)
        data = report_file(size, event, "walkin" if walk_ins else "person")
        with app.test_request_context():

            def export() -> None:
                for _chunk in export_csv(event, RegistrationQuery()):
                    pass

            exported = peak(export)
            db.session.commit()
            imported = peak(lambda: import_attendance(event, io.BytesIO(data)))
        db.session.remove()
        db.engine.dispose()
    return exported, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--walk-ins", action="store_true", help="report only unregistered people")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    tracemalloc.start()
    print(
        f"{'rows':>7} {'export peak MB':>15} {'export s':>9} {'import peak MB':>15} {'import s':>9}"
    )
    for size in sizes:
        with (
            tempfile.TemporaryDirectory(prefix="reserve-memory-") as workdir,
            empty_databases(Path(workdir), "app") as (kind, (url,)),
        ):
            (export_mb, export_s), (import_mb, import_s) = measure(
                url, Path(workdir) / "instance", size, args.walk_ins
            )
        print(f"{size:>7} {export_mb:>15.1f} {export_s:>9.1f} {import_mb:>15.1f} {import_s:>9.1f}")
    print(f"database: {kind}")


if __name__ == "__main__":
    main()
