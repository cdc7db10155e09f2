"""The console's operations page: admins see the outbox backlog, stuck leases and what the
worker gave up on (a message the mail server refused, a delivery its receiver never took, a
registrant the webinar platform would not add), and a retry queues each for the next pass;
marketers and reps are refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db import db, utcnow
from app.mail.models import OutboxMessage
from app.platforms.models import RegistrantSync
from app.webhooks import subscriptions
from app.webhooks.models import WebhookDelivery
from app.worker import run_due_jobs
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.fake_receiver import FakeReceiver
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401 (fixture `receiver`)
from tests.zoom_fixtures import zoom_fixture  # noqa: F401 (fixture `zoom`)

PAGE = "/admin/operations"


@pytest.fixture
def app_config(app_config, smtp_server, zoom):  # type: ignore[no-untyped-def]
    # The tests run the worker's passes themselves.
    return (
        app_config
        | smtp_server.mail_config
        | zoom.settings
        | {"MAIL_WAKE_WORKER": False, "WEBHOOKS_ALLOW_PRIVATE": True, "WEBHOOKS_MAX_ATTEMPTS": 1}
    )


@pytest.fixture
def admin(client: Any) -> Any:
    log_in(client, make_user("admin"))
    return client


def count_in(page: str, state: str) -> int:
    found = re.search(rf'data-state="{state}">(\d+)<', page)
    assert found, state
    return int(found.group(1))


def retry(client: Any, path: str) -> Any:
    token = csrf_token(client.get(PAGE).text)
    return client.post(path, data={"csrf_token": token})


def status_of(model: Any, row_id: int) -> str:
    return db.session.scalar(
        select(model.status).where(model.id == row_id).execution_options(populate_existing=True)
    )


def test_an_admin_sees_the_outbox_backlog_and_stuck_leases(admin):
    event = make_event()
    for n in range(3):
        register_person(event, f"person{n}@example.com")
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == 1)
        .values(status="sending", lease="gone", locked_until=utcnow() - timedelta(minutes=2))
    )
    db.session.commit()
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert count_in(page.text, "unwritten") == 2
    assert count_in(page.text, "sending") == 1
    assert count_in(page.text, "sent") == 0
    assert "outbox: <strong>1</strong>" in page.text
    assert 'aria-current="page">Operations<' in page.text


def test_a_message_the_server_refused_is_listed_and_a_retry_sends_it(admin, smtp_server):
    event = make_event()
    smtp_server.refused.add("ada@example.com")
    registration = register_person(event, "ada@example.com")
    db.session.commit()
    run_due_jobs()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
    )
    assert message is not None and message.status == "failed"
    page = admin.get(PAGE).text
    assert "550 5.1.1 No such user here" in page
    assert count_in(page, "failed") == 1

    smtp_server.refused.clear()
    answer = retry(admin, f"{PAGE}/messages/{message.id}/retry")
    assert answer.status_code == 303
    assert status_of(OutboxMessage, message.id) == "pending"
    run_due_jobs()
    assert status_of(OutboxMessage, message.id) == "sent"
    assert len(smtp_server.to("ada@example.com")) == 1
    assert "No failed messages." in admin.get(PAGE).text
    # A second retry finds nothing to do, and says so.
    again = retry(admin, f"{PAGE}/messages/{message.id}/retry")
    assert "nothing to retry" in admin.get(again.headers["Location"]).text


def test_a_delivery_given_up_is_listed_and_a_retry_delivers_it(admin, receiver: FakeReceiver):
    event = make_event()
    subscription = subscriptions.subscribe(receiver.url, ["registration.created"])
    receiver.answer_next(500)
    register_person(event, "ada@example.com")
    run_due_jobs()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery is not None and delivery.status == "failed"
    # Given up after its one attempt: the webhook is paused too, and the page says both.
    page = admin.get(PAGE).text
    assert "answered 500" in page
    assert receiver.url in page
    assert "paused webhooks: <strong>1</strong>" in page

    answer = retry(admin, f"{PAGE}/deliveries/{delivery.id}/retry")
    assert answer.status_code == 303
    assert status_of(WebhookDelivery, delivery.id) == "pending"
    subscriptions.resume(db.session.get(type(subscription), subscription.id))
    run_due_jobs()
    assert status_of(WebhookDelivery, delivery.id) == "delivered"
    assert len(receiver.received) == 2


def test_a_registrant_the_platform_refused_is_listed_and_a_retry_syncs_them(admin, zoom):
    # Zoom does not know this webinar yet: adding the registrant is refused for good.
    event = make_event(platform="zoom", platform_webinar_id="89999999999")
    registration = register_person(event, "ada@example.com")
    db.session.commit()
    run_due_jobs()
    sync = db.session.scalar(
        select(RegistrantSync).where(RegistrantSync.registration_id == registration.id)
    )
    assert sync is not None and sync.status == "failed"
    page = admin.get(PAGE).text
    assert "ada@example.com" in page
    assert "Failed platform syncs" in page

    zoom.webinar("89999999999")
    answer = retry(admin, f"{PAGE}/syncs/{sync.id}/retry")
    assert answer.status_code == 303
    run_due_jobs()
    assert status_of(RegistrantSync, sync.id) == "synced"


@pytest.mark.parametrize("role", ["marketer", "rep"])
def test_other_roles_are_refused(client, role):
    log_in(client, make_user(role))
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/messages/1/retry").status_code in (400, 403)


def test_the_navigation_shows_operations_to_admins_only(client):
    log_in(client, make_user("marketer"))
    assert 'href="/admin/operations"' not in client.get("/admin/events").text
