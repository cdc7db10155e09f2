"""Empty databases for one benchmark run: temporary SQLite files, or throwaway PostgreSQL
databases beside the server that DATABASE_URL names, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def empty_databases(workdir: Path, *names: str) -> Iterator[tuple[str, list[str]]]:
    """Yield (where they live, one URL per name); nothing of them is left afterwards."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgresql"):
        yield "SQLite (temporary files)", [f"sqlite:///{workdir / f'{name}.db'}" for name in names]
        return
    admin_url = make_url(given)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created = [f"bench_{name}_{uuid.uuid4().hex[:8]}" for name in names]
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        urls = [
            admin_url.set(database=name).render_as_string(hide_password=False) for name in created
        ]
        yield f"PostgreSQL ({admin_url.host}:{admin_url.port}, throwaway databases)", urls
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
