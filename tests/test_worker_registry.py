"""The worker's job registry: a package's job runs in the same pass as, and before, the
sending of the outbox; a failing job stops no other; the outbox door wakes the worker."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from app.db import db
from app.mail import outbox
from app.mail.compose import Letter
from app.mail.models import OutboxMessage
from app.worker import add_job, queue_for, run_due_jobs


@pytest.fixture
def app_config(app_config, smtp_server):  # type: ignore[no-untyped-def]
    return {**app_config, **smtp_server.mail_config}


def tell_rep(key: str, subject: str) -> bool:
    """Queue a letter to the rep through mail's door, as follow-up does."""
    letter = Letter(subject, f"{subject}.", f"<p>{subject}.</p>")
    return outbox.queue_letter(
        "followup_digest", key, letter, to_email="rep@example.com", to_name="Rep"
    )


def letter_job(now: datetime) -> int:
    queued = tell_rep("test-letter:1", "A word from a job")
    db.session.commit()
    return int(queued)


def broken_job(now: datetime) -> int:
    tell_rep("test-letter:broken", "Never committed")
    raise RuntimeError("the job broke")


def keys() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.dedupe_key)))


def test_mail_a_package_job_queues_is_sent_in_the_same_pass(app, smtp_server):
    add_job(app, "letters", letter_job)

    done = run_due_jobs()

    assert done["letters"] == 1
    assert done["sent"] == 1
    assert [m["Subject"] for m in smtp_server.to("rep@example.com")] == ["A word from a job"]
    # The job ran before sending: the sending step comes last in the pass's report.
    assert list(done)[-3:] == ["sent", "retried", "failed"]
    again = run_due_jobs()
    assert (again["letters"], again["sent"]) == (0, 0)


def test_a_failing_job_is_logged_and_the_others_still_run_and_send(
    app, smtp_server, caplog, monkeypatch
):
    # The migrations' logging.config.fileConfig (run once for the test database) disables
    # every logger that existed before it, this one included.
    monkeypatch.setattr(logging.getLogger("app.worker"), "disabled", False)
    add_job(app, "broken", broken_job)
    add_job(app, "letters", letter_job)

    with caplog.at_level(logging.ERROR, logger="app.worker"):
        done = run_due_jobs()

    assert "broken" not in done
    assert (done["letters"], done["sent"]) == (1, 1)
    assert "worker job broken failed" in caplog.text
    # What the broken job queued was rolled back with it: nothing half-done goes out.
    assert keys() == ["test-letter:1"]
    assert [m["Subject"] for m in smtp_server.to("rep@example.com")] == ["A word from a job"]


def test_a_letter_queued_through_the_door_wakes_the_worker_once_committed(app, smtp_server):
    huey = queue_for(app)
    try:
        tell_rep("test-letter:rolled-back", "Never committed")
        db.session.rollback()
        assert huey.pending_count() == 0

        assert tell_rep("test-letter:1", "A word from staff")
        assert huey.pending_count() == 0  # not before the commit
        db.session.commit()
        assert huey.pending_count() == 1

        huey.execute(huey.dequeue())  # what the consumer process does
        assert [m["Subject"] for m in smtp_server.to("rep@example.com")] == ["A word from staff"]
    finally:
        huey.flush()
