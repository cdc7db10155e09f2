"""What every outbox the worker sends from shares (mail, webhook deliveries): leasing due
rows to one run, and the wait after a failed attempt.

A leased table has `id`, `status` (`pending` / `sending` / …), `next_attempt_at`, `lease` and
`locked_until`. A row is claimed by one conditional UPDATE (still pending and due, or its lease
expired), so two workers never hold the same row, and the rows of a worker killed mid-batch go
back into play once their lease runs out.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true, update

from app.db import db, utcnow, writing


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
    returned.

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
        done += work(lease, moment)


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """The wait after the `attempts`th failure (1, 2, …): doubling from `base` up to `cap`,
    each within ±20 % so that what failed together does not all come back in the same second."""
    seconds = min(base * 2 ** (attempts - 1), cap)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))
