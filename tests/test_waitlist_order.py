"""Fair order: a registrant's arrival time (the waitlist's order) is stamped inside the seat lock,
so nobody who arrived earlier is waitlisted while a later arrival gets the last seat.

Registrations run through the registration service from threads of their own, on the test's
database (a SQLite file, or PostgreSQL with DATABASE_URL), each in its own app context.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.db import IMMEDIATE, db
from app.registrations.models import Registration
from app.registrations.services import register
from tests.builders import make_event, registrant


def register_from_threads(app, event_id: int, emails: list[str], *, stagger: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """Register each email from its own thread; with `stagger`, each starts that long after
    the one before (all at once otherwise)."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(emails)) if not stagger else None

    def one(email: str) -> None:
        with app.app_context():
            try:
                if start is not None:
                    start.wait()
                register(event_id, registrant(email))
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
        time.sleep(stagger)
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def seated_and_waiting(event_id: int) -> tuple[list[Registration], list[Registration]]:
    db.session.rollback()
    rows = list(db.session.scalars(select(Registration).where(Registration.event_id == event_id)))
    seated = [r for r in rows if r.status == "confirmed"]
    waiting = [r for r in rows if r.status == "waitlisted"]
    return seated, waiting


def assert_nobody_waitlisted_arrived_before_a_seat(event_id: int) -> None:
    seated, waiting = seated_and_waiting(event_id)
    last_seated = max(r.created_at for r in seated)
    first_waiting = min(r.created_at for r in waiting)
    assert last_seated < first_waiting, (
        f"{[(r.email, r.created_at) for r in waiting if r.created_at < last_seated]} arrived "
        f"before the last seat was taken ({last_seated}) and were waitlisted"
    )


@contextmanager
def seat_lock_held(database_url: str, event_id: int) -> Iterator[None]:
    """Hold what a registration waits for while it takes a seat: the event row's lock on
    PostgreSQL, the database's write lock on SQLite."""
    url = make_url(database_url)
    engine = create_engine(url)
    with engine.connect() as conn:
        if url.get_backend_name() == "sqlite":
            # app.db begins a transaction asked for with this option as BEGIN IMMEDIATE.
            conn.execution_options(**{IMMEDIATE: True}).exec_driver_sql("SELECT 1")
        else:
            conn.execute(
                text("SELECT id FROM events WHERE id = :id FOR NO KEY UPDATE"), {"id": event_id}
            )
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_of_two_waiting_for_the_last_seat_the_one_seated_is_stamped_first(app, database_url):
    # Two arrive while the seat lock is held, one after the other; which gets the lock first
    # is up to the database. Whoever it is, the seat and the earlier stamp go together.
    for round_ in range(4):
        event = make_event(slug=f"last-seat-{round_}", capacity=1, waitlist=True)
        event_id = event.id
        db.session.commit()
        done = threading.Thread(
            target=register_from_threads,
            args=(app, event_id, [f"early{round_}@example.com", f"late{round_}@example.com"]),
            kwargs={"stagger": 0.15},
        )
        with seat_lock_held(database_url, event_id):
            done.start()
            time.sleep(0.5)  # both are now waiting for the lock
        done.join(timeout=120)
        seated, waiting = seated_and_waiting(event_id)
        assert (len(seated), len(waiting)) == (1, 1)
        assert seated[0].created_at < waiting[0].created_at


def test_a_crowd_for_the_last_seats_is_seated_in_order_of_arrival(app):
    event = make_event(capacity=6, waitlist=True)
    event_id = event.id
    db.session.commit()

    register_from_threads(app, event_id, [f"guest{n}@example.com" for n in range(24)])

    seated, waiting = seated_and_waiting(event_id)
    assert (len(seated), len(waiting)) == (6, 18)
    assert_nobody_waitlisted_arrived_before_a_seat(event_id)
