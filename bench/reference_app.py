"""The yardstick for bench/registration.py: bare Flask, a static page and a one-row insert.

`gunicorn bench.reference_app:app` with DATABASE_URL set; its table is created at start. It does
the least a web app can do per request on the same server, database and settings, so the
benchmark can say how much of that budget the real app's landing page and registration spend.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
)

metadata = MetaData()
rows = Table(
    "reference_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# About the size of the app's landing page, so bytes on the wire do not decide the ratio.
PAGE_BYTES = 14_000
PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Reference</title></head>"
    "<body><main><h1>Reference page</h1>"
    + "<p>A static paragraph, the same on every request.</p>" * (PAGE_BYTES // 52)
    + "</main></body></html>"
)


def make_engine(url: str) -> Any:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # The app's own SQLite settings (app/db.py), so both sides pay the same for a commit.
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def create_reference_app(database_url: str) -> Flask:
    app = Flask(__name__)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    # gunicorn forks workers after this (--preload): none may inherit the pool's connection.
    engine.dispose()

    @app.get("/page")
    def page() -> str:
        return PAGE

    @app.post("/insert")
    def insert_row() -> tuple[str, int]:
        with engine.begin() as connection:
            connection.execute(
                insert(rows).values(email=request.form["email"], created_at=datetime.now(UTC))
            )
        return "", 201

    return app


app = create_reference_app(os.environ["DATABASE_URL"])
