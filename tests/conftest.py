"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when DATABASE_URL says
so), the app, its client, and builders that go through the same services users do."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from werkzeug.routing.rules import Rule

from app import create_app
from app.db import db
from tests.builders import log_in, make_event, make_user

# Fixtures kept beside the helpers they use: `smtp_server` (a real local SMTP server) and
# `fake_stripe` (a local fake of the Stripe API the official client is pointed at) and
# `fake_goto` (a local fake of GoTo Webinar's OAuth and REST API).
pytest_plugins = ["tests.smtp", "tests.fake_stripe", "tests.fake_goto"]


def _share_url_builders() -> None:
    """Build each URL rule's builder once per test process instead of once per test app.

    Werkzeug writes and compiles a Python function for every rule of every app it routes; the
    suite makes an app per test, each with the same ~400 rules, and this was half of create_app.
    The function depends only on the rule's text, its parsed parts and defaults, and reads the
    converters from the rule it is bound to, so one compiled per rule serves every app alike.
    """
    compile_builder = Rule._compile_builder
    built: dict[tuple[Any, ...], Any] = {}

    def shared(rule: Rule, append_unknown: bool = True) -> Any:
        try:
            key = (rule.rule, tuple(rule._trace), frozenset((rule.defaults or {}).items()))
            key += (append_unknown,)
            hash(key)
        except TypeError:  # a default that cannot be a key: build it as werkzeug does
            return compile_builder(rule, append_unknown)
        if key not in built:
            built[key] = compile_builder(rule, append_unknown)
        return built[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")


def _base_config(instance: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://testserver",
        "MAIL_SERVER": None,
        "STRIPE_SECRET_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None,
        # Tests post forms in the instant they load them; tests of the rule set it.
        "FORM_MIN_FILL_SECONDS": 0,
    }


def _migrate(database_url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(_base_config(instance, database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database built once: a SQLite file to copy, or a throwaway PostgreSQL one."""
    instance = tmp_path_factory.mktemp("template-instance")
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("template") / "app.db"
        _migrate(f"sqlite:///{path}", instance)
        yield str(path)
        return
    # Never touch the database DATABASE_URL names: make one of our own beside it.
    admin_url = make_url(PG_URL)
    name = f"reserve_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        # A throwaway database need not wait for the disk at every commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    _migrate(url, instance)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@cache
def _pg_engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if not ON_POSTGRES:
        path = tmp_path / "app.db"
        shutil.copyfile(database_template, path)
        return f"sqlite:///{path}"
    # DELETE in dependency order is far quicker than TRUNCATE for tables this small: TRUNCATE
    # swaps every table's files and waits for the disk each time.
    with _pg_engine(database_template).begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        ).scalars()
        for sequence in sequences:
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    return database_template


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override in a test module to change settings for its app."""
    return _base_config(tmp_path / "instance", database_url)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def event(app: Flask):  # type: ignore[no-untyped-def]
    return make_event()


@pytest.fixture
def staff(client: FlaskClient, app: Flask) -> FlaskClient:
    """The client, signed in to the console as a marketer."""
    log_in(client, make_user("marketer"))
    return client
