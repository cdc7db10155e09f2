"""The webhooks API (admin only) and the target check: subscriptions with a secret shown once,
their delivery logs, and receivers on private addresses refused unless allowed."""

from __future__ import annotations

import socket

import pytest
from standardwebhooks import Webhook

from app.webhooks import targets
from app.webhooks.targets import TargetRefused, is_public
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.webhooks_fixtures import app_config, receiver_fixture  # noqa: F401


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("admin"))


def subscribe(client, headers, url, events=("registration.created",)):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers
    )


def test_an_admin_subscribes_and_sees_the_secret_only_once(client, admin, receiver):
    response = subscribe(client, admin, receiver.url)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["secret"].startswith("whsec_")
    assert created["url"] == receiver.url and created["events"] == ["registration.created"]
    listed = client.get("/api/v1/webhooks", headers=admin).json
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == created["id"]
    assert "secret" not in listed["items"][0]

    register_person(make_event(), "ada@example.com")
    run_due_jobs()
    assert len(receiver.received) == 1
    request = receiver.received[0]
    Webhook(created["secret"]).verify(request.body, request.headers)

    log = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=admin).json
    assert log["total"] == 1
    entry = log["items"][0]
    assert (entry["type"], entry["status"], entry["attempts"]) == (
        "registration.created",
        "delivered",
        1,
    )
    assert entry["response_code"] == 204
    assert entry["webhook_id"] == request.headers["webhook-id"]


def test_deleting_a_subscription_stops_its_deliveries(client, admin, receiver):
    created = subscribe(client, admin, receiver.url).json
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 404
    assert (
        client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=admin).status_code == 404
    )
    register_person(make_event(), "ada@example.com")
    run_due_jobs()
    assert receiver.received == []


def test_unknown_event_types_and_bad_urls_are_refused(client, admin, receiver):
    unknown = subscribe(client, admin, receiver.url, events=["registration.exploded"])
    assert unknown.status_code == 422 and "events.0" in unknown.json["error"]["fields"]
    none = subscribe(client, admin, receiver.url, events=[])
    assert none.status_code == 422 and "events" in none.json["error"]["fields"]
    ftp = subscribe(client, admin, "ftp://example.com/hook")
    assert ftp.status_code == 422 and "url" in ftp.json["error"]["fields"]


@pytest.mark.parametrize("role", ["marketer", "rep"])
def test_only_admins_manage_webhooks(client, app, role):
    headers = bearer(make_user(role))
    assert subscribe(client, headers, "https://example.com/hook").status_code == 403
    assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
    assert client.delete("/api/v1/webhooks/1", headers=headers).status_code == 403
    assert client.get("/api/v1/webhooks/1/deliveries", headers=headers).status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 401


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_not_public(address):
    assert not is_public(address)


def test_public_addresses_are_public():
    assert is_public("93.184.216.34") and is_public("2606:4700:4700::1111")


def test_a_private_target_is_refused_unless_allowed(client, app, admin, receiver, monkeypatch):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    refused = subscribe(client, admin, receiver.url)
    assert refused.status_code == 422
    assert "127.0.0.1" in refused.json["error"]["fields"]["url"]

    # A name that resolves to the metadata address is refused after DNS, whatever it looks like.
    def metadata(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(targets.socket, "getaddrinfo", metadata)
    with pytest.raises(TargetRefused):
        targets.resolve("https://hooks.example.com/in")
    monkeypatch.undo()

    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    assert subscribe(client, admin, receiver.url).status_code == 201


def test_a_target_that_turns_private_later_is_not_posted_to(client, app, admin, receiver):
    from sqlalchemy import select

    from app.db import db
    from app.webhooks.models import WebhookDelivery

    created = subscribe(client, admin, receiver.url).json
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    register_person(make_event(), "ada@example.com")
    run_due_jobs()
    assert receiver.received == []
    delivery = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == created["id"])
    ).one()
    assert delivery.status == "pending" and "not a public address" in (delivery.last_error or "")
