"""The migrations build exactly the schema the models describe, and the database enforces it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from app.db import db
from tests.builders import make_event, register_person


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert compare_metadata(context, db.metadata) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(app, tmp_path):
    # Checked on a SQLite file of its own, so the PostgreSQL pass checks it too.
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_the_database_refuses_to_oversell_an_event(app):
    event = make_event(capacity=1)
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE events SET seats_taken = 2 WHERE id = :id"), {"id": event.id}
        )
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_a_second_registration_for_the_same_email(app, event):
    lead_id = register_person(event, "a@example.com", first_name="A").lead_id
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO registrations (event_id, lead_id, email, email_normalized, first_name,"
                " last_name, company, job_title, answers, consent_marketing, status, manage_token,"
                " created_at, updated_at, invite_uid, invite_sequence, questions_asked)"
                " VALUES (:e, :l, 'A@example.com', 'a@example.com', 'A', '', '', '', '{}', false,"
                " 'confirmed', 'tok', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'uid', 0, 0)"
            ),
            {"e": event.id, "l": lead_id},
        )
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_an_unknown_status_and_a_dangling_event(app, event):
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE events SET status = 'archived' WHERE id = :id"), {"id": event.id}
        )
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE events SET campaign_id = 999999 WHERE id = :id"), {"id": event.id}
        )
        db.session.commit()
    db.session.rollback()
