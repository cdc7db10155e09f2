"""How long the worker waits after a failed platform call, and when it gives up: one rule for
registrant syncs and attendance pulls."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app import leasing
from app.platforms.base import PlatformError


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
