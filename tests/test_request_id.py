"""The request id: taken from a well-formed `X-Request-ID` or made, returned in the answer,
written on the outbox rows and webhook deliveries the request queued, and on every JSON log
line, the worker's included when it sends what the request queued."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.db import db
from app.mail.models import OutboxMessage
from app.operations.logs import JsonHandler
from app.webhooks import subscriptions
from app.webhooks.models import WebhookDelivery
from app.worker import run_due_jobs
from tests.builders import make_event
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401 (fixture `receiver`)

REGISTER = "/api/v1/events/launch-webinar/registrations"
MADE = re.compile(r"[0-9a-f]{32}")


def person(email: str = "ada@example.com") -> dict[str, Any]:
    return {"email": email, "first_name": "Ada", "last_name": "Lovelace"}


def test_every_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert MADE.fullmatch(first) and MADE.fullmatch(second)
    assert first != second


def test_a_well_formed_incoming_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.42:1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.42:1"


@pytest.mark.parametrize("bad", ["two words", "x" * 65, "<script>", "-leading-dash", "ü-umlaut"])
def test_a_malformed_incoming_id_is_replaced(client, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert MADE.fullmatch(response.headers["X-Request-ID"])


def test_a_refused_request_carries_one_too(client):
    response = client.get("/no/such/page", headers={"X-Request-ID": "lost-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "lost-1"


def test_the_outbox_row_and_webhook_delivery_a_registration_queued_carry_its_id(app, client):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    make_event()
    subscriptions.subscribe("http://127.0.0.1:9/hook", ["registration.created"])
    response = client.post(REGISTER, json=person(), headers={"X-Request-ID": "signup-123"})
    assert response.status_code == 201, response.json
    rows = db.session.scalars(select(OutboxMessage.request_id)).all()
    assert rows == ["signup-123"]
    deliveries = db.session.scalars(select(WebhookDelivery.request_id)).all()
    assert deliveries == ["signup-123"]
    # Another request's rows carry that request's own id.
    other = client.post(REGISTER, json=person("grace@example.com"))
    made = other.headers["X-Request-ID"]
    assert sorted(db.session.scalars(select(OutboxMessage.request_id)).all()) == sorted(
        ["signup-123", made]
    )


@pytest.fixture
def json_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app logging JSON; its handler (taken off the root logger afterwards) writes to
    `app.extensions["test_log"]` instead of stderr, which pytest holds."""
    app = create_app(app_config | {"LOG_FORMAT": "json", "MAIL_WAKE_WORKER": False})
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, JsonHandler)]
    handler.setStream(app.extensions.setdefault("test_log", io.StringIO()))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, JsonHandler):
            root.removeHandler(handler)


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_json_log_lines_carry_the_request_id_into_the_worker(json_app):
    make_event()
    client = json_app.test_client()
    response = client.post(REGISTER, json=person(), headers={"X-Request-ID": "trace-abc"})
    assert response.status_code == 201, response.json
    # The worker, outside any request, sends the message the request queued.
    done = run_due_jobs()
    assert done["sent"] == 1
    lines = json_lines(json_app.extensions["test_log"].getvalue())
    request_line = next(line for line in lines if line["logger"] == "app.requests")
    assert request_line["request_id"] == "trace-abc"
    assert request_line["route"] == "/api/v1/events/<slug>/registrations"
    assert request_line["status"] == 201
    assert isinstance(request_line["duration_ms"], float)
    assert request_line["level"] == "INFO"
    sending = [line for line in lines if line["message"].startswith("outbox: sending message")]
    assert len(sending) == 1
    assert sending[0]["request_id"] == "trace-abc"
    assert sending[0]["message"].endswith("queued by request trace-abc")
    # Lines of the worker's own pass, not about that message, carry no request's id.
    assert any(line["request_id"] is None for line in lines if line["logger"] != "app.requests")


def test_the_worker_logs_a_webhook_delivery_under_the_id_of_the_request_that_caused_it(
    json_app, receiver
):
    json_app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    make_event()
    subscriptions.subscribe(receiver.url, ["registration.created"])
    client = json_app.test_client()
    response = client.post(REGISTER, json=person(), headers={"X-Request-ID": "hook-77"})
    assert response.status_code == 201, response.json
    run_due_jobs()
    assert len(receiver.received) == 1
    lines = json_lines(json_app.extensions["test_log"].getvalue())
    posting = [line for line in lines if line["message"].startswith("webhook delivery")]
    assert len(posting) == 1
    assert posting[0]["request_id"] == "hook-77"
