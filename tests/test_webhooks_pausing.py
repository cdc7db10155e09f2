"""A receiver that keeps failing is paused and its owner emailed (through the real SMTP
fixture); 410 Gone pauses at once; a throttling receiver's Retry-After sets the next attempt;
resuming sends what is still pending; a paused subscription is owed nothing new; and
cancelling an event tells each registrant's cancel once."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.services import cancel_event
from app.models import User
from app.registrations.services import cancel
from app.webhooks import subscriptions
from app.webhooks.delivery import deliver_due
from app.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from app.webhooks.pausing import GONE
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.fake_receiver import FakeReceiver
from tests.smtp import SmtpSink
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: SmtpSink) -> dict[str, Any]:
    return app_config | smtp_server.mail_config | {"WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def owner(app: Any) -> User:
    return make_user("admin", "owner@example.com")


def subscribe(receiver: FakeReceiver, owner: User, *events: str) -> WebhookSubscription:
    return subscriptions.subscribe(receiver.url, list(events or EVENT_TYPES), owner=owner)


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def fresh(subscription: WebhookSubscription) -> WebhookSubscription:
    db.session.expire_all()
    found = db.session.get(WebhookSubscription, subscription.id)
    assert found is not None
    return found


def letters_to(smtp_server: SmtpSink, address: str) -> list[Any]:
    return [r.message for r in smtp_server.received if address in r.recipients]


def test_a_receiver_failing_for_long_enough_is_paused_and_its_owner_emailed(
    app, receiver, owner, smtp_server
):
    app.config.update(WEBHOOKS_PAUSE_AFTER_FAILURES=5, WEBHOOKS_PAUSE_AFTER_MINUTES=60)
    subscription = subscribe(receiver, owner)
    receiver.answer_next(*[500] * 20)
    event = make_event()
    register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    t0 = utcnow() + timedelta(minutes=1)
    deliver_due(t0)
    # Four failures within a minute: a burst, not yet a receiver that is down.
    assert fresh(subscription).active
    assert fresh(subscription).failures == 4

    deliver_due(t0 + timedelta(hours=2))
    paused = fresh(subscription)
    assert not paused.active
    assert paused.paused_reason and "5 attempts in a row failed" in paused.paused_reason
    # The pause stopped the batch: one more post, the rest held back unsent.
    assert len(receiver.received) == 5
    assert [r.attempts for r in deliveries()] == [2, 1, 1, 1]
    assert {r.status for r in deliveries()} == {"pending"}
    deliver_due(t0 + timedelta(days=3))
    assert len(receiver.received) == 5

    run_due_jobs(t0 + timedelta(days=3))
    (letter,) = letters_to(smtp_server, owner.email)
    assert letter["Subject"] == f"Webhook paused: {receiver.url}"
    text = letter.get_body(("plain",)).get_content()
    assert receiver.url in text
    assert "Last error: answered 500" in text
    assert f"{app.config['BASE_URL']}/admin/webhooks/{subscription.id}" in text
    html = letter.get_body(("html",)).get_content()
    assert f'href="{app.config["BASE_URL"]}/admin/webhooks/{subscription.id}"' in html
    assert receiver.url in html and "answered 500" in html
    # Told once, however many failures follow.
    run_due_jobs(t0 + timedelta(days=4))
    assert len(letters_to(smtp_server, owner.email)) == 1


def test_a_410_pauses_at_once_and_the_api_says_why(app, client, receiver, owner, smtp_server):
    subscription = subscribe(receiver, owner)
    receiver.answer_next(410)
    register_person(make_event(), "ada@example.com")
    deliver_due(utcnow() + timedelta(minutes=1))
    assert len(receiver.received) == 1, "the second delivery is not posted to a gone receiver"
    listed = client.get("/api/v1/webhooks", headers=bearer(owner)).json["items"][0]
    assert (listed["active"], listed["paused_reason"]) == (False, GONE)
    assert listed["paused_at"] is not None and listed["owner_id"] == owner.id
    run_due_jobs()
    (letter,) = letters_to(smtp_server, owner.email)
    assert "410 Gone" in letter.get_body(("plain",)).get_content()
    assert fresh(subscription).failures == 1


def test_an_owner_who_left_is_replaced_by_the_active_admins(app, receiver, smtp_server):
    gone = make_user("admin", "gone@example.com")
    subscribe(receiver, gone)
    gone.active = False
    db.session.commit()
    other = make_user("admin", "other@example.com")
    receiver.answer_next(410)
    register_person(make_event(), "ada@example.com")
    deliver_due(utcnow() + timedelta(minutes=1))
    run_due_jobs()
    assert letters_to(smtp_server, gone.email) == []
    assert len(letters_to(smtp_server, other.email)) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_throttling_receiver_s_retry_after_in_seconds_sets_the_next_attempt(
    app, receiver, owner, status
):
    subscribe(receiver, owner, "registration.created")
    receiver.answer_next(status, headers={"Retry-After": "120"})
    register_person(make_event(), "ada@example.com")
    now = utcnow() + timedelta(minutes=1)
    deliver_due(now)
    (row,) = deliveries()
    assert (row.status, row.response_code) == ("pending", status)
    assert row.next_attempt_at == now + timedelta(seconds=120)


def test_retry_after_as_an_http_date_is_honoured_and_capped(app, receiver, owner):
    subscribe(receiver, owner, "registration.created")
    now = utcnow() + timedelta(minutes=1)
    later = now + timedelta(hours=1)
    receiver.answer_next(429, headers={"Retry-After": format_datetime(later, usegmt=True)})
    receiver.answer_next(503, headers={"Retry-After": "99999999"})
    receiver.answer_next(500, headers={"Retry-After": "3600"})  # not a throttle: back-off
    register_person(make_event(), "ada@example.com")
    deliver_due(now)
    (row,) = deliveries()
    assert abs(row.next_attempt_at - later) < timedelta(seconds=1)
    t1 = row.next_attempt_at
    deliver_due(t1)
    (row,) = deliveries()
    cap = timedelta(seconds=app.config["WEBHOOKS_RETRY_CAP_SECONDS"])
    assert row.next_attempt_at == t1 + cap
    t2 = row.next_attempt_at
    deliver_due(t2)
    (row,) = deliveries()
    assert (row.attempts, row.response_code) == (3, 500)
    # The third failure's back-off (5 s doubled twice, ±20 %), not the hour asked for.
    assert timedelta(seconds=16) <= row.next_attempt_at - t2 <= timedelta(seconds=24)


def test_a_redirect_stays_a_failure_counted_in_the_streak(app, receiver, owner):
    subscription = subscribe(receiver, owner, "registration.created")
    receiver.answer_next(301)
    register_person(make_event(), "ada@example.com")
    deliver_due(utcnow() + timedelta(minutes=1))
    assert [(r.status, r.response_code) for r in deliveries()] == [("pending", 301)]
    assert fresh(subscription).failures == 1


def test_a_paused_subscription_is_owed_nothing_new_and_resuming_sends_what_waits(
    app, client, receiver, owner
):
    subscription = subscribe(receiver, owner)
    receiver.answer_next(410)
    event = make_event()
    register_person(event, "ada@example.com")
    deliver_due(utcnow() + timedelta(minutes=1))
    assert not fresh(subscription).active
    register_person(event, "bob@example.com")  # while paused
    assert len(deliveries()) == 2, "no delivery is queued for a paused subscription"
    run_due_jobs(utcnow() + timedelta(days=1))
    assert len(receiver.received) == 1

    headers = bearer(owner)
    answer = client.patch(
        f"/api/v1/webhooks/{subscription.id}", json={"active": True}, headers=headers
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["active"], answer.json["paused_reason"]) == (True, None)
    assert fresh(subscription).failures == 0
    assert deliver_due(utcnow() + timedelta(seconds=1)) == 2
    sent = [json.loads(r.body)["data"]["email"] for r in receiver.received]
    assert sent == ["ada@example.com"] * 3, "bob's registration, made while paused, is not sent"
    assert {r.status for r in deliveries()} == {"delivered"}

    register_person(event, "cy@example.com")  # resumed: owed again
    assert len(deliveries()) == 4
    assert client.patch(
        f"/api/v1/webhooks/{subscription.id}", json={"active": False}, headers=headers
    ).json["paused_reason"] == (f"Paused by {owner.name}.")


def test_resume_refuses_bad_input_and_unknown_ids(app, client, owner):
    headers = bearer(owner)
    bad = client.patch("/api/v1/webhooks/1", json={"active": "maybe"}, headers=headers)
    assert bad.status_code == 422 and "active" in json.dumps(bad.json)
    assert (
        client.patch("/api/v1/webhooks/999", json={"active": True}, headers=headers).status_code
        == 404
    )
    marketer = bearer(make_user("marketer"))
    assert (
        client.patch("/api/v1/webhooks/1", json={"active": True}, headers=marketer).status_code
        == 403
    )


def test_an_event_cancel_tells_each_registration_it_ends_once(app, receiver, owner):
    first = subscribe(receiver, owner, "registration.cancelled")
    second = subscriptions.subscribe(receiver.url + "?second", ["registration.cancelled"])
    event = make_event(capacity=2)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    cy = register_person(event, "cy@example.com")  # waitlisted
    cancel(bob.id)  # bob cancels himself first: cy takes his seat
    cancel_event(event)
    cancel(ada.id)  # after the event's cancel: already told
    run_due_jobs()

    cancels = [(r.path, json.loads(r.body)["data"]) for r in receiver.received]
    for path in ("/hook", "/hook?second"):
        told = {data["email"]: data["cancelled_by"] for p, data in cancels if p == path}
        assert told == {
            "bob@example.com": "registrant",
            "ada@example.com": "event",
            "cy@example.com": "event",
        }
    assert len(cancels) == 6
    per_subscription = {(r.subscription_id, r.event_key) for r in deliveries()}
    assert len(per_subscription) == 6
    assert {r.subscription_id for r in deliveries()} == {first.id, second.id}
    by_event = [data for _, data in cancels if data["cancelled_by"] == "event"]
    assert {data["status"] for data in by_event} == {"cancelled"}
    assert {data["registration_id"] for data in by_event} == {ada.id, cy.id}
