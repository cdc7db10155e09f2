"""How long the worker waits after a failed platform call, and when it gives up: one rule for
registrant syncs and attendance pulls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, update

from app import leasing
from app.db import db, utcnow
from app.platforms.base import PlatformError
from app.worker import wake_after_commit


def wait_after(attempts: int, error: PlatformError) -> timedelta:
    """The wait after the `attempts`th failure: doubling back-off, never shorter than what the
    platform asked for (a 429's Retry-After)."""
    config = current_app.config
    wait = leasing.retry_delay(
        attempts,
        float(config["PLATFORM_RETRY_BASE_SECONDS"]),
        float(config["PLATFORM_RETRY_CAP_SECONDS"]),
    )
    if error.retry_after is not None:
        wait = max(wait, timedelta(seconds=error.retry_after))
    return wait


def gives_up(attempts: int, error: PlatformError) -> bool:
    """Whether a call that failed `attempts` times is not tried again."""
    return error.permanent or attempts >= int(current_app.config["PLATFORM_MAX_ATTEMPTS"])


def retry_failed_row(model: Any, which: ColumnElement[bool]) -> bool:
    """Make the failed sync or pull `which` names once more at the worker's next pass; False
    when it is not failed (any more). Committed."""
    done = db.session.execute(
        update(model)
        .where(which, model.status == "failed")
        .values(status="pending", next_attempt_at=utcnow(), last_error=None)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is not None:
        wake_after_commit()
    db.session.commit()
    return done is not None
