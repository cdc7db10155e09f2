"""`GET /readyz`: ready when the database answers, Redis answers (when configured) and the
schema is at the migrations' head; 503 naming what failed otherwise. `/healthz` stays the
liveness check, which a schema behind does not fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from app import create_app
from app.db import db
from app.health import code_heads


def test_a_migrated_app_is_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok"
    assert response.json["checks"] == {
        "database": "ok",
        "redis": "not configured",
        "migrations": "ok",
    }


def test_a_database_one_migration_behind_is_not_ready(app_config, tmp_path: Path):
    # A throwaway database of its own: upgraded, then downgraded one step.
    config = app_config | {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'behind.db'}"}
    app = create_app(config)
    with app.app_context():
        upgrade()
        downgrade(revision="-1")
        (head,) = code_heads(app)
        response = app.test_client().get("/readyz")
        liveness = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    assert response.json["failed"] == ["migrations"]
    assert head in response.json["checks"]["migrations"]
    assert response.json["checks"]["database"] == "ok"
    assert liveness.status_code == 200


@pytest.fixture
def dead_redis_config(app_config):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    return app_config | {"REDIS_URL": "redis://127.0.0.1:1/0"}


def test_redis_configured_but_down_is_not_ready(dead_redis_config):
    app = create_app(dead_redis_config)
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    assert response.json["failed"] == ["redis"]
    assert response.json["checks"]["redis"].startswith("unavailable")


def test_redis_configured_and_answering_is_ready(app_config):
    app = create_app(app_config | {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == "ok"


def test_a_database_that_does_not_answer_is_not_ready(app_config, tmp_path: Path):
    # A directory is no SQLite database: every statement fails.
    (tmp_path / "not-a-db").mkdir()
    app = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'not-a-db'}"})
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    assert "database" in response.json["failed"]
