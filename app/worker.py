"""The background worker: the job registry every package adds to, its Huey queue, and
`flask worker` (until stopped) and `flask worker --burst` (what is due now, then exit).

The database says what is due (the outbox, reminder times, ended events); Huey only decides
when to look: a periodic task every minute (each worker ticks, one worker of the deployment
takes the minute's turn and runs the pass: app.schedule), and a "wake" task queued after each
commit that asked for one (`wake_after_commit`). Huey keeps its queue in `instance/huey.db`
(SQLite), or in Redis when REDIS_URL is set.

A pass runs in two phases: every job (`add_job`), then the final steps (`add_final_step`),
which flush what the jobs produced. Mail's final step writes and sends the outbox, so a job
that queues mail has it sent in the same pass.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from app import metrics, schedule
from app.db import db, utcnow

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

# A job is given the moment to act for and returns how much it did.
Job = Callable[[datetime], int]
# A final step is given the moment asked for (None: it follows the clock, so a long run keeps
# up with it) and returns its counts by name.
FinalStep = Callable[[datetime | None], Mapping[str, int]]

# Set on a session whose commit should wake the worker.
_WAKE = "reserve_worker_wake"


@dataclass
class Registry:
    """What one pass of the worker runs, in the order the packages added it."""

    jobs: dict[str, Job] = field(default_factory=dict)
    final_steps: dict[str, FinalStep] = field(default_factory=dict)


def init_app(app: Flask) -> None:
    _registry(app)
    app.cli.add_command(run_worker)
    if not orm_event.contains(Session, "after_commit", _wake_after_commit):
        orm_event.listen(Session, "after_commit", _wake_after_commit)
        orm_event.listen(Session, "after_rollback", _forget_wake)


def add_job(app: Flask, name: str, job: Job) -> None:
    """Run `job(now)` on every pass of the worker, before the final steps.

    A package adds its periodic work here from its own `init_app` (follow-up routing after
    an event, expiring holds): a job that queues mail has it sent in the same pass.
    """
    _registry(app).jobs[name] = job


def add_final_step(app: Flask, name: str, step: FinalStep) -> None:
    """Run `step(now)` on every pass, after every job (mail: write and send the outbox).

    Final steps run in the order they were added. Unlike a job, a failing step ends the pass
    with its error: what it flushes is what the pass was for.
    """
    _registry(app).final_steps[name] = step


def run_due_jobs(now: datetime | None = None) -> dict[str, int]:
    """One pass: every job, then the final steps. A failing job is logged and the rest
    still run. Returns how much each did, by name."""
    registry = _registry(current_app)
    metrics.WORKER_PASSES.inc()
    moment = now or utcnow()
    done: dict[str, int] = {}
    for name, job in registry.jobs.items():
        try:
            done[name] = job(moment)
        except Exception:
            db.session.rollback()
            metrics.JOB_FAILURES.labels(name).inc()
            log.exception("worker job %s failed", name)
    for step in registry.final_steps.values():
        done.update(step(now))
    return done


def wake_after_commit() -> None:
    """Have the worker look now, rather than at the next minute, once this transaction is
    committed (it wrote something the worker acts on: mail, an owed refund)."""
    db.session.info[_WAKE] = True


def queue_for(app: Flask) -> Huey:
    """The app's Huey, made on first use (most processes never need one)."""
    huey = app.extensions.get("huey")
    if huey is None:
        huey = app.extensions["huey"] = _make_huey(app)
    return huey


def wake_worker() -> None:
    """Ask the worker to run a pass now.

    Called after a commit; failing here loses nothing (the minute task finds the work).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["MAIL_WAKE_WORKER"]:
        return
    try:
        huey = queue_for(app)
        # A wake still waiting in the queue will run after this commit and see its rows;
        # so one is enough, and a stopped worker does not come back to thousands of them.
        if huey.pending_count() == 0:
            wake: TaskWrapper = app.extensions["huey_wake"]
            wake()  # queues the task (the worker process runs it)
    except Exception:
        log.warning("could not wake the worker; the minute task will find the work", exc_info=True)


def _registry(app: Flask) -> Registry:
    registry = app.extensions.get("worker_jobs")
    if registry is None:
        registry = app.extensions["worker_jobs"] = Registry()
    return registry


def _make_huey(app: Flask) -> Huey:
    redis_url = app.config.get("REDIS_URL")
    name = app.config["HUEY_NAME"]
    huey: Huey
    if redis_url:
        huey = RedisHuey(name, url=redis_url, results=False)
    else:
        path = Path(app.instance_path) / "huey.db"
        huey = SqliteHuey(name, filename=str(path), results=False)

    def one_pass() -> None:
        with app.app_context():
            run_due_jobs()

    def every_minute() -> None:
        with app.app_context():
            periodic_tick()

    # Tasks are named explicitly: the web process queues them, the worker process runs them.
    app.extensions["huey_wake"] = huey.task(name="wake")(one_pass)
    app.extensions["huey_every_minute"] = huey.periodic_task(
        crontab(minute="*"), name="every_minute"
    )(every_minute)
    return huey


def periodic_tick(now: datetime | None = None) -> bool:
    """Every worker's minute: run a pass if this worker takes the minute's turn (one worker of
    the deployment does, however many run: app.schedule); whether it ran."""
    moment = now or utcnow()
    if not schedule.take_turn("every_minute", moment):
        return False
    run_due_jobs(now)
    return True


def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE, False):
        wake_worker()


def _forget_wake(session: Session) -> None:
    session.info.pop(_WAKE, None)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Do every job due now, then exit.")
@click.option("--workers", default=1, show_default=True, help="Threads running tasks.")
def run_worker(burst: bool, workers: int) -> None:
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
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", app_path, "worker"], cwd=ROOT
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
