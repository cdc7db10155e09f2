"""Each follow-up and payment event a subscription can ask for becomes its delivery: applied
attendance, routed and reassigned follow-ups, a rep's verdict, a payment and its refund."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from app.followup.routing import route_followups
from app.followup.services import assign_by_hand, update_followup
from app.registrations.services import cancel
from app.webhooks import subscriptions
from app.worker import run_due_jobs
from tests.builders import make_event, make_user, register_person
from tests.fake_receiver import FakeReceiver
from tests.fake_stripe import FakeStripe, stripe_settings
from tests.followup_fixtures import after, attend, followup_of, make_rep
from tests.payments_fixtures import make_paid_event, paid_seat, payment_of
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_stripe: FakeStripe) -> dict[str, Any]:
    return app_config | stripe_settings(fake_stripe) | {"WEBHOOKS_ALLOW_PRIVATE": True}


def bodies(receiver: FakeReceiver, secret: str, event_type: str) -> list[dict[str, Any]]:
    """The verified bodies of `event_type` the receiver got."""
    verified = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    return [body for body in verified if body["type"] == event_type]


def test_attendance_and_follow_up_events_are_delivered(app, receiver):
    wanted = ["attendance.applied", "followup.assigned", "followup.updated"]
    secret = subscriptions.subscribe(receiver.url, wanted).secret
    event = make_event()
    rep = make_rep("ana@example.com", name="Ana")
    register_person(event, "p@firm.example")
    register_person(event, "q@firm.example")
    attend(event, {"p@firm.example": 50})
    attend(event, {"p@firm.example": 50})  # the same report again is not news
    route_followups(event.id, now=after(event))
    followup = followup_of("p@firm.example", event)
    update_followup(followup.id, rep, {"status": "contacted"})
    run_due_jobs()

    (applied,) = bodies(receiver, secret, "attendance.applied")
    assert applied["data"] | {"imported_at": None} == {
        "event_id": event.id,
        "attended": 1,
        "no_show": 1,
        "unmatched": 0,
        "imported_at": None,
    }
    assigned = bodies(receiver, secret, "followup.assigned")
    assert {b["data"]["rep_id"] for b in assigned} == {rep.id}
    assert len(assigned) == 2
    (updated,) = bodies(receiver, secret, "followup.updated")
    assert updated["data"]["followup_id"] == followup.id
    assert updated["data"]["status"] == "contacted"
    assert not any(
        json.loads(r.body)["type"].startswith("registration.") for r in receiver.received
    )


def test_a_follow_up_given_by_hand_is_announced(app, receiver):
    secret = subscriptions.subscribe(receiver.url, ["followup.assigned"]).secret
    event = make_event()
    make_rep("ana@example.com")
    ben = make_rep("ben@example.com")
    register_person(event, "p@firm.example")
    route_followups(event.id, now=after(event))
    followup = followup_of("p@firm.example", event)
    assign_by_hand(followup.id, ben.id, make_user("admin"), now=after(event, 30))
    run_due_jobs()
    assigned = bodies(receiver, secret, "followup.assigned")
    assert [b["data"]["rep_id"] for b in assigned][-1] == ben.id
    assert len(assigned) == 2


def test_a_payment_and_its_refund_are_delivered(app, client, fake_stripe, receiver):
    secret = subscriptions.subscribe(receiver.url, ["payment.succeeded", "payment.refunded"]).secret
    event = make_paid_event()
    registration_id = paid_seat(client, fake_stripe, event)["id"]
    cancel(registration_id, by="staff")
    run_due_jobs()
    payment = payment_of(registration_id)
    assert payment.refund_status == "succeeded"
    (paid,) = bodies(receiver, secret, "payment.succeeded")
    assert paid["data"]["payment_id"] == payment.id
    assert paid["data"]["status"] == "paid" and paid["data"]["amount_cents"] == 4900
    (refunded,) = bodies(receiver, secret, "payment.refunded")
    assert refunded["data"]["refunded_cents"] == 4900
