"""What a registration asks the database while it holds the seat: on PostgreSQL the seat UPDATE
locks the event's row until the commit, so every registration of that event waits for what
comes after it. After the seat only the rows the registration causes are written; whatever is
read (who subscribes to webhooks) is read before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app.db import db
from tests.builders import make_event


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def register(client: FlaskClient, slug: str, email: str) -> None:
    answer = client.post(
        f"/api/v1/events/{slug}/registrations", json={"email": email, "first_name": "Ada"}
    )
    assert answer.status_code == 201, answer.get_json()


def test_after_the_seat_a_registration_only_writes_what_it_causes(app, client):
    webinar = make_event(capacity=50)
    # The first registration in a process reads the sender once (for Message-IDs): not this.
    register(client, webinar.slug, "first@example.com")
    with statements(app) as seen:
        register(client, webinar.slug, "ada@example.com")

    seat = next(i for i, sql in enumerate(seen) if sql.startswith("UPDATE events SET seats_taken"))
    subscribers = next(i for i, sql in enumerate(seen) if "FROM webhook_subscriptions" in sql)
    assert subscribers < seat
    after = [sql.split(" (")[0] for sql in seen[seat + 1 :]]
    # The receivers of `registered` run in no promised order.
    assert after[0] == "INSERT INTO registrations", after
    assert sorted(after[1:]) == [
        "INSERT INTO outbox_messages",
        "INSERT INTO registration_alerts",
    ], after
