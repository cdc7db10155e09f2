"""One scheduler per deployment: however many workers run, each minute's periodic pass is taken by
one of them, through a lock in the database (`scheduler_locks`) or in Redis when configured.

Every worker's clock ticks each minute (Huey's periodic task); the tick asks for that minute's
turn, and only the worker that gets it runs the pass. A turn expires at the end of its minute,
so the next minute's tick on any worker takes the next one, and a worker that died holding a
turn holds nothing past it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, update
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UTCDateTime, insert_ignoring_conflict, rows_changed, writing

log = logging.getLogger(__name__)

# Who holds a turn: host, process and a random part (two apps in one process differ too).
HOLDER = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


class SchedulerLock(Model):
    """A periodic task's current turn: who holds it, and until when."""

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def minute_of(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def take_turn(name: str, now: datetime, *, holder: str = HOLDER) -> bool:
    """Whether this process takes the turn of periodic task `name` for the minute of `now`;
    at most one process of the deployment gets each minute's turn."""
    minute = minute_of(now)
    until = minute + timedelta(minutes=1)
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        return _take_in_redis(redis_url, name, minute, holder)
    return _take_in_database(name, now, until, holder)


def _take_in_database(name: str, now: datetime, until: datetime, holder: str) -> bool:
    # One short transaction: the first tick ever inserts the row; after that the tick whose
    # conditional UPDATE finds the last turn expired takes it. Either statement is atomic on
    # SQLite and PostgreSQL: a second tick of the same minute finds the row taken.
    with writing():
        if insert_ignoring_conflict(
            SchedulerLock, ["name"], name=name, holder=holder, expires_at=until
        ):
            return True
        taken = rows_changed(
            update(SchedulerLock)
            .where(SchedulerLock.name == name, SchedulerLock.expires_at <= now)
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
    return taken == 1


def _take_in_redis(url: str, name: str, minute: datetime, holder: str) -> bool:
    from redis import Redis

    prefix = current_app.config["HUEY_NAME"]
    key = f"{prefix}:scheduler:{name}:{minute:%Y%m%dT%H%M}"
    client = Redis.from_url(url)
    try:
        # SET NX: only the first tick of the minute sets the key; it outlives the minute a
        # little so that a late tick (clocks a few seconds apart) still finds it.
        return bool(client.set(key, holder, nx=True, ex=180))
    finally:
        client.close()
