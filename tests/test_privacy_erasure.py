"""Exporting a person, then erasing them: the export holds every piece, and afterwards no
table, file or log row names them, while counts, reports and seats stay as they were."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events.models import Event
from app.mail.models import OutboxMessage
from app.privacy.models import Erasure
from app.privacy.registry import email_hash
from app.registrations.models import Lead, Registration
from app.reports.figures import event_report
from app.webhooks.models import WebhookDelivery
from app.worker import run_due_jobs
from tests.builders import bearer, csrf_token, log_in, make_user
from tests.fake_receiver import FakeReceiver
from tests.fake_stripe import FakeStripe, stripe_settings
from tests.privacy_fixtures import (
    EMAIL,
    FIRST,
    PHONE,
    Scene,
    database_dump,
    instance_dump,
    mail_text,
    mentions,
    person_with_everything,
)
from tests.webhooks_fixtures import receiver_fixture  # noqa: F401


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_stripe: FakeStripe) -> dict[str, Any]:
    return app_config | stripe_settings(fake_stripe) | {"WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def scene(app, client, fake_stripe, receiver) -> Scene:  # type: ignore[no-untyped-def]
    return person_with_everything(app, client, fake_stripe, receiver)


def figures(scene: Scene) -> list[Any]:
    db.session.expire_all()
    counts = []
    for event in scene.events:
        fresh = db.session.get(Event, event.id)
        assert fresh is not None
        report = event_report(fresh)
        counts.append((fresh.seats_taken, report.funnel, report.events_with_attendance))
    counts.append(db.session.scalar(select(func.count()).select_from(Registration)))
    counts.append(db.session.scalar(select(func.count()).select_from(Lead)))
    return counts


def test_the_export_holds_every_piece_of_the_person(client, scene):
    answer = client.get(f"/api/v1/people/{EMAIL.upper()}", headers=scene.admin_headers)

    assert answer.status_code == 200, answer.text
    person = answer.json
    assert person["lead"]["phone"] == PHONE
    assert {r["event"] for r in person["registrations"]} == {e.slug for e in scene.events}
    assert all(r["answers"]["interest"] for r in person["registrations"])
    (attended,) = [r for r in person["registrations"] if r["attendance"]["attended"]]
    assert attended["event"] == scene.attended.slug
    assert attended["attendance"]["attended_minutes"] == 42
    given = [c for c in person["consents"] if c["action"] == "given"]
    assert given and given[0]["source"] == "api"
    assert given[0]["text"] == client.application.config["CONSENT_TEXT"]
    (followup,) = person["followups"]
    assert followup["rep"] == "rita.rep@example.com"
    assert PHONE in followup["notes"][0]["body"]
    assert {"confirmation"} <= {e["kind"] for e in person["emails"]}
    assert all(e["subject"] and e["created_at"] for e in person["emails"])
    (payment,) = person["payments"]
    assert payment["status"] == "paid" and payment["amount_cents"] == scene.paid.price_cents
    assert person["webhook_deliveries"]


def test_after_erasure_nothing_anywhere_names_the_person_and_the_counts_hold(
    app, client, scene, receiver: FakeReceiver
):
    before = figures(scene)
    others = client.get("/api/v1/people/other@example.org", headers=scene.admin_headers).json
    held = mentions(database_dump())
    letters = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id.is_(None))
    )
    assert any(FIRST in mail_text(row.content or b"") for row in letters), (
        "no rep letter names them"
    )
    assert {"leads", "registrations", "outbox_messages", "followup_notes"} <= set(held)
    assert {"webhook_deliveries"} <= set(held)
    assert any(path.endswith(".eml") for path in mentions(instance_dump(app)))

    answer = client.post(f"/api/v1/people/{EMAIL}/erase", headers=scene.admin_headers)

    assert answer.status_code == 200, answer.text
    assert "refunds nothing" in answer.json["refunds"]
    assert answer.json["email_sha256"] == email_hash(EMAIL)
    run_due_jobs()
    assert client.get(f"/api/v1/people/{EMAIL}", headers=scene.admin_headers).status_code == 404
    assert mentions(database_dump()) == {}
    assert mentions(instance_dump(app)) == {}
    assert figures(scene) == before
    assert (
        client.get("/api/v1/people/other@example.org", headers=scene.admin_headers).json == others
    )
    log = db.session.scalars(select(Erasure)).one()
    assert (log.email_sha256, log.actor, log.source) == (
        email_hash(EMAIL),
        "boss@example.com",
        "api",
    )
    told = [json.loads(r.body) for r in receiver.received]
    (erased,) = [body for body in told if body["type"] == "person.erased"]
    assert erased["data"]["email_sha256"] == email_hash(EMAIL)
    assert "zelda" not in json.dumps(erased).lower()
    listed = client.get("/api/v1/leads?limit=500", headers=scene.admin_headers).text
    assert FIRST not in listed and "quimby" not in listed.lower()


def test_the_console_shows_downloads_and_erases_after_a_confirm_step(app, client, scene):
    admin = make_user("admin")
    log_in(client, admin)
    # A pending attendance preview naming the person is kept in the database.
    client.post(
        f"/admin/events/{scene.attended.slug}/attendance",
        data={
            "csrf_token": csrf_token(
                client.get(f"/admin/events/{scene.attended.slug}/attendance").text
            ),
            "report": (io.BytesIO(f"email,minutes\n{EMAIL},5\n".encode()), "report.csv"),
        },
        content_type="multipart/form-data",
    )
    assert "attendance_preview_attendees" in mentions(database_dump())
    found = client.get("/admin/people?q=quimby")
    assert EMAIL.lower() in found.text
    page = client.get(f"/admin/people/{EMAIL.lower()}")
    assert page.status_code == 200 and PHONE in page.text
    download = client.get(f"/admin/people/{EMAIL.lower()}/export.json")
    assert json.loads(download.data)["lead"]["phone"] == PHONE
    step = client.get(f"/admin/people/{EMAIL.lower()}/erase")
    assert "refunded" in step.text
    unconfirmed = client.post(
        f"/admin/people/{EMAIL.lower()}/erase", data={"csrf_token": csrf_token(step.text)}
    )
    assert unconfirmed.status_code == 422
    assert client.get(f"/admin/people/{EMAIL.lower()}").status_code == 200

    done = client.post(
        f"/admin/people/{EMAIL.lower()}/erase",
        data={"csrf_token": csrf_token(step.text), "confirm": "y"},
    )

    assert done.status_code == 303
    assert client.get(f"/admin/people/{EMAIL.lower()}").status_code == 404
    assert FIRST not in client.get("/admin/people?q=quimby").text
    assert mentions(instance_dump(app)) == {}
    assert not {"attendance_previews", "attendance_preview_attendees"} & set(
        mentions(database_dump())
    )
    assert db.session.scalars(select(Erasure)).one().source == "console"


@pytest.mark.parametrize("role", ["marketer", "rep"])
def test_only_admins_see_or_erase_a_person(client, scene, role):
    headers = bearer(make_user(role))
    assert client.get(f"/api/v1/people/{EMAIL}", headers=headers).status_code == 403
    assert client.post(f"/api/v1/people/{EMAIL}/erase", headers=headers).status_code == 403
    assert client.get(f"/api/v1/people/{EMAIL}").status_code == 401
    log_in(client, make_user(role))
    assert client.get(f"/admin/people/{EMAIL.lower()}").status_code in (403, 404)
    assert client.post(f"/admin/people/{EMAIL.lower()}/erase").status_code in (400, 403, 404)
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_nothing_held_is_a_404(client, app):
    headers = bearer(make_user("admin"))
    assert client.get("/api/v1/people/nobody@example.com", headers=headers).status_code == 404
    assert (
        client.post("/api/v1/people/nobody@example.com/erase", headers=headers).status_code == 404
    )
    assert client.get("/api/v1/people/not-an-address", headers=headers).status_code == 404


def test_the_command_line_exports_and_erases_only_with_yes(runner, scene):
    exported = runner.invoke(args=["people", "export", EMAIL])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["lead"]["phone"] == PHONE

    refused = runner.invoke(args=["people", "erase", EMAIL])
    assert refused.exit_code != 0
    assert "registrations: 3" in refused.output and "--yes" in refused.output
    assert runner.invoke(args=["people", "export", EMAIL]).exit_code == 0

    erased = runner.invoke(args=["people", "erase", EMAIL, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert runner.invoke(args=["people", "export", EMAIL]).exit_code != 0
    assert db.session.scalars(select(Erasure)).one().source == "cli"
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) > 0
