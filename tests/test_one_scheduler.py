"""One scheduler: however many workers run, each minute's periodic pass runs once per deployment.

Two workers are two app instances (each its own instance folder, as on two hosts) on the same
database; each ticks as Huey's minute task would, and a job added to both counts the passes.
The turn is kept in the database's `scheduler_locks`, or in Redis when REDIS_URL is set.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask

from app import create_app
from app.db import db, utcnow
from app.schedule import SchedulerLock, minute_of
from app.worker import add_job, periodic_tick, queue_for

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def store(request) -> str:  # type: ignore[no-untyped-def]
    return str(request.param)


@pytest.fixture
def workers(app_config, tmp_path, store) -> Iterator[tuple[list[Flask], list[str]]]:  # type: ignore[no-untyped-def]
    """Two worker apps on one database, and the list of passes they ran (by worker name)."""
    shared = {"MAIL_WAKE_WORKER": False}
    if store == "redis":
        shared |= {"REDIS_URL": REDIS_URL, "HUEY_NAME": f"t-{uuid.uuid4().hex}"}
    passes: list[str] = []
    apps = []
    for name in ("host-a", "host-b"):
        app = create_app({**app_config, **shared, "INSTANCE_PATH": str(tmp_path / name)})

        def count(now: datetime, name: str = name) -> int:
            passes.append(name)
            return 1

        add_job(app, "count", count)
        apps.append(app)
    yield apps, passes
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def tick(app: Flask, now: datetime | None = None) -> bool:
    with app.app_context():
        try:
            return periodic_tick(now)
        finally:
            db.session.remove()


def test_two_workers_ticking_in_the_same_minute_run_the_pass_once(workers):
    apps, passes = workers
    minute = minute_of(utcnow()) + timedelta(minutes=5)

    ran = [
        tick(apps[0], minute + timedelta(seconds=0.2)),
        tick(apps[1], minute + timedelta(seconds=0.9)),
    ]

    assert ran == [True, False]
    assert passes == ["host-a"]


def test_each_minute_gets_one_pass_whichever_worker_ticks_first(workers):
    apps, passes = workers
    start = minute_of(utcnow()) + timedelta(minutes=5)
    for n in range(3):
        minute = start + timedelta(minutes=n)
        # Host b's clock runs a little ahead in the second minute: it ticks first then.
        first, second = (apps[1], apps[0]) if n == 1 else (apps[0], apps[1])
        tick(first, minute + timedelta(seconds=0.1))
        tick(second, minute + timedelta(seconds=0.4))
        tick(first, minute + timedelta(seconds=59.9))  # a late tick of the same minute
    assert passes == ["host-a", "host-b", "host-a"]


def test_workers_ticking_at_the_same_instant_run_the_pass_once(workers):
    apps, passes = workers
    moment = minute_of(utcnow()) + timedelta(minutes=5, seconds=1)
    ticks = [app for app in apps for _ in range(3)]  # three worker threads on each host
    start = threading.Barrier(len(ticks))
    ran: list[bool] = []

    def one(app: Flask) -> None:
        start.wait()
        ran.append(tick(app, moment))

    threads = [threading.Thread(target=one, args=(app,)) for app in ticks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(ran) == [False] * 5 + [True]
    assert len(passes) == 1


def test_hueys_minute_task_on_every_worker_runs_one_pass(workers):
    apps, passes = workers
    for _attempt in range(2):
        passes.clear()
        before = minute_of(utcnow())
        for app in apps:
            queue_for(app)  # the worker's queue, with its minute task
            app.extensions["huey_every_minute"].call_local()
        if minute_of(utcnow()) == before:
            break  # both ticked in the same minute (else: try again in the next one)
    assert len(passes) == 1


def test_the_database_lock_records_its_holder_and_expires_at_the_end_of_the_minute(workers, store):
    apps, _ = workers
    minute = minute_of(utcnow()) + timedelta(minutes=5)
    tick(apps[0], minute + timedelta(seconds=3))
    with apps[1].app_context():
        locks = list(db.session.scalars(db.select(SchedulerLock)))
        if store == "database":
            assert [(lock.name, lock.expires_at) for lock in locks] == [
                ("every_minute", minute + timedelta(minutes=1))
            ]
        else:
            assert locks == []
        db.session.remove()
