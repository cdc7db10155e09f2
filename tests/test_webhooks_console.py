"""The console's webhooks pages: the subscriptions, a delivery log with status and response
code, and "resend", which sends a delivery again with the same webhook-id."""

from __future__ import annotations

from datetime import timedelta

from app.db import db, utcnow
from app.webhooks.delivery import deliver_due
from app.webhooks.models import WebhookDelivery
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.webhooks_fixtures import (  # noqa: F401
    app_config,
    receiver_fixture,
    subscription_fixture,
)


def test_an_admin_sees_the_log_and_resends_a_failed_delivery(app, client, receiver, subscription):
    app.config["WEBHOOKS_MAX_ATTEMPTS"] = 1
    receiver.answer_next(500)
    register_person(make_event(), "ada@example.com")
    deliver_due(utcnow())
    log_in(client, make_user("admin"))

    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in listing and "paused" in listing
    page = client.get(f"/admin/webhooks/{subscription.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "registration.created" in text and "failed" in text and "500" in text
    # The given-up delivery paused the subscription; the page says why and offers to resume.
    assert "was given up" in text and "Resume" in text

    delivery = db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.event_type == "registration.created")
    ).one()
    resent = client.post(
        f"/admin/webhooks/{subscription.id}/deliveries/{delivery.id}/resend",
        data={"csrf_token": csrf_token(text)},
    )
    assert resent.status_code == 303
    assert deliver_due(utcnow() + timedelta(seconds=1)) == 0, "nothing goes to a paused receiver"
    resumed = client.post(
        f"/admin/webhooks/{subscription.id}/resume", data={"csrf_token": csrf_token(text)}
    )
    assert resumed.status_code == 303
    # The resent delivery and the one the pause held back.
    assert deliver_due(utcnow() + timedelta(seconds=1)) == 2
    db.session.expire_all()
    assert (delivery.status, delivery.response_code) == ("delivered", 204)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids.count(delivery.message_id) == 2
    assert "active" in client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)


def test_an_admin_pauses_a_webhook_by_hand(app, client, receiver, subscription):
    admin = make_user("admin")
    log_in(client, admin)
    page = client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    paused = client.post(
        f"/admin/webhooks/{subscription.id}/pause", data={"csrf_token": csrf_token(page)}
    )
    assert paused.status_code == 303
    register_person(make_event(), "ada@example.com")
    assert deliver_due(utcnow()) == 0
    assert receiver.received == []
    text = client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    assert f"Paused by {admin.name}" in text


def test_a_marketer_cannot_see_webhooks(app, client):
    log_in(client, make_user("marketer"))
    assert client.get("/admin/webhooks").status_code == 403
