"""Outgoing webhooks end to end: registration events become signed deliveries the worker
posts to a real local receiver, retried after a failure, delivered once after a crash."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from standardwebhooks import Webhook

from app.db import db, utcnow
from app.registrations.services import cancel
from app.webhooks.delivery import claim, deliver_due
from app.webhooks.models import WebhookDelivery
from app.worker import run_due_jobs
from tests.builders import make_event, register_person
from tests.webhooks_fixtures import (  # noqa: F401
    app_config,
    receiver_fixture,
    subscription_fixture,
)


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def types_received(receiver) -> list[str]:  # type: ignore[no-untyped-def]
    return [json.loads(request.body)["type"] for request in receiver.received]


def test_a_delivery_is_signed_so_the_standard_verifier_accepts_it(app, receiver, subscription):
    register_person(make_event(), "ada@example.com")
    assert run_due_jobs()["webhooks"] == 2
    assert types_received(receiver) == ["registration.created", "registration.confirmed"]
    for request in receiver.received:
        body = Webhook(subscription.secret).verify(request.body, request.headers)
        assert set(body) == {"type", "timestamp", "data"}
        assert body["data"]["email"] == "ada@example.com"
        assert request.headers["webhook-id"].startswith("msg_")
        assert request.headers["webhook-signature"].startswith("v1,")
    forged = dict(receiver.received[0].headers, **{"webhook-signature": "v1,AAAA"})
    try:
        Webhook(subscription.secret).verify(receiver.received[0].body, forged)
    except Exception as exc:
        assert type(exc).__name__ == "WebhookVerificationError"
    else:
        raise AssertionError("a forged signature was accepted")
    assert {row.status for row in deliveries()} == {"delivered"}
    assert {row.response_code for row in deliveries()} == {204}


def test_each_registration_event_type_is_delivered_once(app, receiver, subscription):
    event = make_event(capacity=1)
    first = register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")  # waitlisted
    cancel(first.id, by="staff")  # frees the seat: bob is promoted
    run_due_jobs()
    run_due_jobs()
    assert sorted(types_received(receiver)) == sorted(
        [
            "registration.created",
            "registration.confirmed",
            "registration.created",
            "registration.waitlisted",
            "registration.cancelled",
            "registration.confirmed",
        ]
    )
    cancelled = [json.loads(r.body) for r in receiver.received]
    cancelled = [b for b in cancelled if b["type"] == "registration.cancelled"]
    assert cancelled[0]["data"]["cancelled_by"] == "staff"
    assert cancelled[0]["data"]["email"] == "ada@example.com"


def test_a_failed_delivery_is_retried_with_backoff_then_delivered(app, receiver, subscription):
    receiver.answer_next(500, 500)
    register_person(make_event(), "ada@example.com")
    now = utcnow()
    assert deliver_due(now) == 0
    rows = deliveries()
    assert [(r.status, r.attempts, r.response_code) for r in rows] == [("pending", 1, 500)] * 2
    assert all(r.next_attempt_at > now for r in rows)
    assert "answered 500" in (rows[0].last_error or "")
    # Not due yet: nothing is sent again before the back-off has passed.
    assert deliver_due(now) == 0
    assert len(receiver.received) == 2
    assert deliver_due(now + timedelta(hours=1)) == 2
    rows = deliveries()
    assert [(r.status, r.attempts, r.response_code) for r in rows] == [("delivered", 2, 204)] * 2
    # The same webhook-id on the retry: a receiver can drop a repeat.
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids[:2] == ids[2:]


def test_a_redirect_is_a_failure_not_followed(app, receiver, subscription):
    receiver.answer_next(302, 302)
    register_person(make_event(), "ada@example.com")
    deliver_due(utcnow())
    assert len(receiver.received) == 2
    assert {(r.status, r.response_code) for r in deliveries()} == {("pending", 302)}


def test_a_delivery_gives_up_after_the_last_attempt(app, receiver, subscription):
    app.config["WEBHOOKS_MAX_ATTEMPTS"] = 2
    receiver.answer_next(503, 503, 503, 503)
    register_person(make_event(), "ada@example.com")
    now = utcnow()
    deliver_due(now)
    deliver_due(now + timedelta(days=2))
    # The first to give up pauses the subscription (see test_webhooks_pausing.py): the other
    # is held back, pending, for when it is resumed.
    assert [(r.status, r.attempts) for r in deliveries()] == [("failed", 2), ("pending", 1)]
    deliver_due(now + timedelta(days=4))
    assert len(receiver.received) == 3


def test_a_killed_worker_s_batch_is_delivered_once_after_its_lease(app, receiver, subscription):
    register_person(make_event(), "ada@example.com")
    now = utcnow()
    # A worker claims the batch and dies before sending anything.
    _lease, ids = claim(10, now)
    assert len(ids) == 2
    assert deliver_due(now) == 0, "a leased row is left to its worker"
    later = now + timedelta(seconds=app.config["WEBHOOKS_LEASE_SECONDS"] + 1)
    assert deliver_due(later) == 2
    assert deliver_due(later + timedelta(hours=1)) == 0
    assert len(receiver.received) == 2
    assert {r.status for r in deliveries()} == {"delivered"}


def test_an_event_is_owed_once_per_subscription(app, receiver, subscription):
    from app.webhooks.outbox import announce

    register_person(make_event(), "ada@example.com")
    assert announce("registration.created", "reg:x", {"n": 1}) == 1
    assert announce("registration.created", "reg:x", {"n": 2}) == 0
    db.session.commit()
    assert len([r for r in deliveries() if r.event_key == "registration.created:reg:x"]) == 1


def test_a_subscription_gets_only_the_types_it_asked_for(app, receiver):
    from app.webhooks import subscriptions

    subscriptions.subscribe(receiver.url, ["registration.cancelled"])
    registration = register_person(make_event(), "ada@example.com")
    cancel(registration.id)
    run_due_jobs()
    assert types_received(receiver) == ["registration.cancelled"]
