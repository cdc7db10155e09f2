"""The probes: `GET /healthz` (liveness: 200 when the database answers, 503 when it does not)
and `GET /readyz` (readiness: the database answers, Redis answers when REDIS_URL is set, and
the database's schema is at the migrations' head; 503 naming what failed otherwise)."""

from __future__ import annotations

from pathlib import Path

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import db

bp = Blueprint("health", __name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# A probe answers quickly or counts as failed: a load balancer waits a second or two.
REDIS_TIMEOUT_SECONDS = 1.0


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    checks = {
        "database": _database(),
        "redis": _redis(),
        "migrations": _migrations(),
    }
    failed = [name for name, outcome in checks.items() if outcome not in ("ok", "not configured")]
    if failed:
        return {"status": "unavailable", "failed": failed, "checks": checks}, 503
    return {"status": "ok", "checks": checks}, 200


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"unavailable: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


def _migrations() -> str:
    heads = code_heads(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return f"unavailable: {type(exc).__name__}"
    if current == heads:
        return "ok"
    have = ", ".join(sorted(current)) or "none"
    return f"behind: the database is at {have}, the code at {', '.join(sorted(heads))}"


def code_heads(app: Flask) -> set[str]:
    """The migrations' head revision(s), read from the files once per process."""
    heads: set[str] | None = app.extensions.get("migration_heads")
    if heads is None:
        heads = app.extensions["migration_heads"] = set(
            ScriptDirectory(str(MIGRATIONS)).get_heads()
        )
    return heads
