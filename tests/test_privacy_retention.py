"""Retention: the worker erases what is past its time, in batches, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.mail.models import OutboxMessage
from app.privacy.models import Erasure
from app.privacy.people import find_person
from app.webhooks import subscriptions
from app.webhooks.models import WebhookDelivery
from app.worker import run_due_jobs
from tests.builders import make_event, register_person
from tests.fake_receiver import FakeReceiver
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    return app_config | {"WEBHOOKS_ALLOW_PRIVATE": True, "MAIL_WAKE_WORKER": False}


def days_ago(days: int):  # type: ignore[no-untyped-def]
    return (utcnow() - timedelta(days=days)).replace(microsecond=0)


def test_people_whose_every_event_is_past_retention_are_erased_and_only_they(app):
    old = make_event(slug="long-ago", starts_at=days_ago(800))
    recent = make_event(slug="last-month", starts_at=days_ago(30))
    register_person(old, "gone@example.com")
    register_person(old, "back@example.com")
    register_person(recent, "back@example.com")
    register_person(recent, "recent@example.com")

    done = run_due_jobs()

    assert done["retention"] == 1
    assert find_person("gone@example.com") is None
    assert find_person("back@example.com") is not None
    assert find_person("recent@example.com") is not None
    assert db.session.scalars(select(Erasure)).one().source == "retention"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) > 0


def test_retention_erases_a_batch_per_pass(app):
    app.config["RETENTION_BATCH"] = 2
    old = make_event(slug="long-ago", starts_at=days_ago(800))
    for n in range(3):
        register_person(old, f"p{n}@example.com")

    assert run_due_jobs()["retention"] == 2
    assert run_due_jobs()["retention"] == 1
    assert run_due_jobs()["retention"] == 0


def test_double_opt_ins_never_confirmed_are_erased_after_their_own_time(app):
    event = make_event(double_opt_in=True, starts_at=days_ago(-60))
    register_person(event, "unsure@example.com", now=utcnow() - timedelta(days=40))
    register_person(event, "fresh@example.com", now=utcnow() - timedelta(days=2))

    run_due_jobs()

    assert find_person("unsure@example.com") is None
    assert find_person("fresh@example.com") is not None


def test_old_email_bodies_and_delivery_logs_go_recent_ones_stay(app, receiver: FakeReceiver):
    subscriptions.subscribe(receiver.url, ["registration.created"])
    event = make_event()
    register_person(event, "old@example.com")
    register_person(event, "new@example.com")
    run_due_jobs()
    long_ago = utcnow() - timedelta(days=100)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient == "old@example.com")
        .values(created_at=long_ago)
    )
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.payload["data"]["email"].as_string() == "old@example.com")
        .values(created_at=long_ago)
    )
    db.session.commit()

    done = run_due_jobs()

    assert done["retention_outbox_bodies"] == 1
    assert done["retention_delivery_logs"] == 1
    bodies = dict(db.session.execute(select(OutboxMessage.recipient, OutboxMessage.content)).all())
    assert bodies["old@example.com"] is None and bodies["new@example.com"]
    payloads = [d.payload["data"]["email"] for d in db.session.scalars(select(WebhookDelivery))]
    assert payloads == ["new@example.com"]
