"""What the privacy tests share: one person with a bit of everything (three events, one
attended, one paid, routed, noted, emailed, told to a webhook receiver), and a search of the
whole database and instance folder for them."""

from __future__ import annotations

import email
import json
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import db, utcnow
from app.events.models import Event
from app.followup.routing import route_followups
from app.followup.services import update_followup
from app.webhooks import subscriptions
from app.webhooks.models import EVENT_TYPES
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.fake_receiver import FakeReceiver
from tests.fake_stripe import FakeStripe
from tests.followup_fixtures import after, attend, followup_of, make_rep
from tests.payments_fixtures import make_paid_event, pay

EMAIL = "Zelda.Quimby@Example.com"
FIRST, LAST = "Zelda", "Quimby"
PHONE = "+4915112345678"
# What must be found nowhere after the erasure.
TRACES = ("zelda.quimby@example.com", FIRST, LAST, PHONE, "15112345678")


@dataclass
class Scene:
    events: list[Event]
    paid: Event
    attended: Event
    admin_headers: dict[str, str]


def person_with_everything(
    app: Flask, client: FlaskClient, fake: FakeStripe, receiver: FakeReceiver
) -> Scene:
    subscriptions.subscribe(receiver.url, list(EVENT_TYPES))
    rep = make_rep("rita.rep@example.com", name="Rita Rep")
    admin = make_user("admin", "boss@example.com")
    headers = bearer(admin)
    upcoming = make_event(slug="upcoming", title="Upcoming")
    attended = make_event(
        slug="past-webinar",
        title="Past webinar",
        starts_at=utcnow().replace(microsecond=0) - timedelta(hours=30),
    )
    paid = make_paid_event(capacity=5)
    # Someone else, who must keep everything.
    register_person(attended, "other@example.org", first_name="Otto", last_name="Other")
    body = {
        "email": EMAIL,
        "first_name": FIRST,
        "last_name": LAST,
        "phone": PHONE,
        "country": "DE",
        "company": "Quimbyworks",
        "answers": {"interest": f"{FIRST} wants the CRM sync"},
        "consent_marketing": True,
    }
    for event in (upcoming, paid):
        answer = client.post(f"/api/v1/events/{event.slug}/registrations", json=body)
        assert answer.status_code == 201, answer.text
        if event is paid:
            pay(client, fake, answer.json["id"])
    register_person(
        attended,
        EMAIL,
        first_name=FIRST,
        last_name=LAST,
        phone=PHONE,
        country="DE",
        answers={"interest": "pricing"},
    )
    attend(attended, {EMAIL.lower(): 42, "other@example.org": 0})
    route_followups(attended.id, now=after(attended))
    followup = followup_of(EMAIL.lower(), attended)
    update_followup(
        followup.id, rep, {"status": "contacted", "note": f"Called {FIRST} {LAST} on {PHONE}"}
    )
    run_due_jobs()  # emails written and sent (as .eml files), webhooks delivered
    return Scene([upcoming, attended, paid], paid, attended, headers)


def readable(value: Any) -> str:
    """A stored value as text a person could read (email bodies decoded)."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return mail_text(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def mail_text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=policy.default)
    pieces = [raw.decode("utf-8", "replace"), *(f"{k}: {v}" for k, v in message.items())]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            pieces.append(str(part.get_content()))  # type: ignore[attr-defined]
    return "\n".join(pieces)


def database_dump() -> dict[str, list[str]]:
    """Every row of every table, as text, by table."""
    dump: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        dump[table.name] = [" | ".join(readable(value) for value in row) for row in rows]
    return dump


def instance_dump(app: Flask) -> dict[str, str]:
    """Every file in the instance folder, as text."""
    found = {}
    for path in Path(app.instance_path).rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            found[str(path)] = (
                mail_text(raw) if path.suffix == ".eml" else raw.decode("utf-8", "replace")
            )
    return found


def mentions(texts: dict[str, Any]) -> dict[str, list[str]]:
    """Where any trace of the person appears, case ignored."""
    hits: dict[str, list[str]] = {}
    for where, text in texts.items():
        joined = "\n".join(text) if isinstance(text, list) else text
        for trace in TRACES:
            if trace.lower() in joined.lower():
                hits.setdefault(where, []).append(trace)
    return hits
