"""The background worker: `flask worker` (until stopped) and `flask worker --burst` (what is
due now, then exit).

The database says what is due (the outbox, reminder times); Huey only decides when to look:
a periodic task every minute, and a "wake" task queued after each commit that added mail.
Huey keeps its queue in `instance/huey.db` (SQLite), or in Redis when REDIS_URL is set.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper

from app.db import db, utcnow
from app.mail.delivery import DEFAULTS, deliver_due
from app.mail.notifications import write_unwritten
from app.mail.reminders import queue_due_reminders

log = logging.getLogger(__name__)

# A job is given the moment to act for and returns how much it did.
Job = Callable[[datetime], int]


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.config.setdefault("MAIL_WAKE_WORKER", True)
    app.extensions["worker_jobs"] = {"reminders": queue_due_reminders}
    app.cli.add_command(worker)


def add_job(app: Flask, name: str, job: Job) -> None:
    """Run `job(now)` on every pass of the worker, before the outbox is sent.

    This is the hook for other packages' periodic work (follow-up routing after an event):
    a job that writes outbox rows has them sent in the same pass.
    """
    app.extensions["worker_jobs"][name] = job


def run_due_jobs(now: datetime | None = None) -> dict[str, int]:
    """One pass: every job, then the emails they (and everyone else) queued: written, then
    sent. A failing job is logged and the rest still run."""
    moment = now or utcnow()
    done: dict[str, int] = {}
    jobs = [*current_app.extensions["worker_jobs"].items(), ("written", write_unwritten)]
    for name, job in jobs:
        try:
            done[name] = job(moment)
        except Exception:
            db.session.rollback()
            log.exception("worker job %s failed", name)
    # Without a given moment, sending follows the clock (a long run keeps up with it).
    report = deliver_due(now)
    done.update(sent=report.sent, retried=report.retried, failed=report.failed)
    return done


def queue_for(app: Flask) -> Huey:
    """The app's Huey, made on first use (most processes never need one)."""
    huey = app.extensions.get("huey")
    if huey is None:
        huey = app.extensions["huey"] = _make_huey(app)
    return huey


def _make_huey(app: Flask) -> Huey:
    redis_url = app.config.get("REDIS_URL")
    name = app.config.get("HUEY_NAME", "reserve")
    huey: Huey
    if redis_url:
        huey = RedisHuey(name, url=redis_url, results=False)
    else:
        path = Path(app.instance_path) / "huey.db"
        huey = SqliteHuey(name, filename=str(path), results=False)

    def one_pass() -> None:
        with app.app_context():
            run_due_jobs()

    # Tasks are named explicitly: the web process queues them, the worker process runs them.
    app.extensions["huey_wake"] = huey.task(name="wake")(one_pass)
    huey.periodic_task(crontab(minute="*"), name="every_minute")(one_pass)
    return huey


def wake_worker() -> None:
    """Ask the worker to look at the outbox now, rather than at the next minute.

    Called after a commit; failing here loses nothing (the minute task finds the rows).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("MAIL_WAKE_WORKER"):
        return
    try:
        huey = queue_for(app)
        # A wake still waiting in the queue will run after this commit and see these rows;
        # so one is enough, and a stopped worker does not come back to thousands of them.
        if huey.pending_count() == 0:
            wake: TaskWrapper = app.extensions["huey_wake"]
            wake()  # queues the task (the worker process runs it)
    except Exception:
        log.warning("could not wake the worker; the minute task will send the mail", exc_info=True)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Do every job due now, then exit.")
@click.option("--workers", default=1, show_default=True, help="Threads running tasks.")
def worker(burst: bool, workers: int) -> None:
    """Send emails and reminders (and run other due jobs) in the background."""
    if burst:
        done = run_due_jobs()
        click.echo(", ".join(f"{name}: {count}" for name, count in done.items()))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    huey = queue_for(app)
    # Whatever piled up while no worker ran goes out now, not at the next minute.
    try:
        run_due_jobs()
    except Exception:
        db.session.rollback()
        log.exception("first pass failed; the minute task will try again")
    huey.create_consumer(workers=workers, periodic=True, max_delay=2.0).run()


@contextmanager
def worker_beside(*, enabled: bool = True) -> Iterator[subprocess.Popen[bytes] | None]:
    """Run `flask worker` as a child process for the duration of the block (`flask serve`)."""
    if not enabled:
        yield None
        return
    info = click.get_current_context().find_object(ScriptInfo)
    app_path = (info.app_import_path if info else None) or "wsgi"
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", app_path, "worker"], cwd=root
    )
    click.echo(f"Background worker running (pid {process.pid})")

    def stop_on_term(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    # SIGTERM would otherwise end this process at once and leave the worker running.
    previous = signal.signal(signal.SIGTERM, stop_on_term)
    try:
        yield process
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            # SIGINT is Huey's graceful stop: the task in hand finishes first.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
