"""Unsubscribe done right: reminders and post-event emails carry List-Unsubscribe with RFC
8058's one-click List-Unsubscribe-Post and a visible link; a POST to it with no cookie and no
form token unsubscribes the lead, a GET only asks; every later such email skips them; the
console and the CRM exports show it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.services import update_event
from app.followup import export
from app.mail.reminders import queue_due_reminders
from app.registrations.consent import unsubscribe_url
from app.registrations.links import manage_url
from app.registrations.models import Lead
from app.worker import run_due_jobs
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.followup_fixtures import attend

HOUR = timedelta(hours=1)


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


def lead_of(email: str) -> Lead:
    db.session.expire_all()
    return db.session.scalars(select(Lead).where(Lead.email == email)).one()


def crm_row(crm: str, email: str) -> dict[str, str]:
    text = "".join(export.lines(crm)).lstrip("\ufeff")
    (row,) = [row for row in csv.DictReader(io.StringIO(text)) if row["Email"] == email]
    return row


def test_reminders_and_post_event_emails_carry_one_click_unsubscribe_and_a_visible_link(
    app, smtp_server
):
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    event = make_event(starts_at=start)
    register_person(event, "ada@example.com", now=start - 48 * HOUR)
    run_due_jobs(now=start - 48 * HOUR)
    (confirmation,) = smtp_server.to("ada@example.com")
    assert confirmation["List-Unsubscribe"] is None  # what a registration needs: no opt-out

    queue_due_reminders(now=start - 24 * HOUR)
    run_due_jobs(now=start - 24 * HOUR)
    _, reminder = smtp_server.to("ada@example.com")
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = reminder["List-Unsubscribe"].strip("<>")
    assert link.startswith(app.config["BASE_URL"] + "/u/")
    assert f"Unsubscribe: {link}" in reminder.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{link}"' in reminder.get_body(preferencelist=("html",)).get_content()

    # After the event: the thank-you carries the same.
    update_event(event, {"recording_url": "https://videos.example.com/r"})
    attend(event, {"ada@example.com": 30})
    run_due_jobs(now=event.ends_at + 2 * HOUR)
    thanks = [m for m in smtp_server.to("ada@example.com") if "Thank you" in m["Subject"]]
    assert len(thanks) == 1
    assert thanks[0]["List-Unsubscribe"] == f"<{link}>"
    assert thanks[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_post_without_cookie_or_form_token_unsubscribes_and_later_emails_skip_them(
    app, smtp_server
):
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    event = make_event(starts_at=start)
    register_person(event, "ada@example.com", now=start - 48 * HOUR)
    register_person(event, "bob@example.com", now=start - 48 * HOUR)
    queue_due_reminders(now=start - 24 * HOUR)
    run_due_jobs(now=start - 24 * HOUR)
    reminder = [m for m in smtp_server.to("ada@example.com") if m["List-Unsubscribe"]][0]
    path = urlsplit(reminder["List-Unsubscribe"].strip("<>")).path

    # A fresh client: no session cookie, no CSRF token, as a mail provider's one-click POST.
    visitor = app.test_client()
    asked = visitor.get(path)
    assert asked.status_code == 200 and "<form" in asked.text
    assert lead_of("ada@example.com").unsubscribed_at is None  # a GET only asks
    answer = visitor.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text
    assert lead_of("ada@example.com").unsubscribed_at is not None
    assert visitor.post(path, data="List-Unsubscribe=One-Click").status_code == 200  # again

    smtp_server.received.clear()
    assert queue_due_reminders(now=start - HOUR) == 1  # Bob's only
    run_due_jobs(now=start - HOUR)
    assert smtp_server.to("ada@example.com") == []
    assert len(smtp_server.to("bob@example.com")) == 1


def test_the_console_and_the_crm_exports_show_who_unsubscribed(app, client, smtp_server):
    event = make_event()
    ada = register_person(event, "ada@example.com", consent_marketing=True)
    register_person(event, "bob@example.com", consent_marketing=True)
    assert crm_row("salesforce", "ada@example.com")["Email Opt Out"] == "0"
    assert crm_row("salesforce", "ada@example.com")["Unsubscribed At"] == ""

    path = urlsplit(unsubscribe_url(lead_of("ada@example.com"))).path
    app.test_client().post(path, data="List-Unsubscribe=One-Click")

    salesforce = crm_row("salesforce", "ada@example.com")
    assert salesforce["Email Opt Out"] == "1"
    assert salesforce["Unsubscribed At"].startswith(str(utcnow().year))
    hubspot = crm_row("hubspot", "ada@example.com")
    assert hubspot["Marketing consent"] == "false"
    assert hubspot["Unsubscribed At"] == salesforce["Unsubscribed At"]
    assert crm_row("salesforce", "bob@example.com")["Unsubscribed At"] == ""

    log_in(client, make_user("marketer"))
    page = client.get(f"/admin/events/launch-webinar/registrations/{ada.id}")
    assert page.status_code == 200, page.text
    assert "no reminders, post-event or marketing email" in page.text


def test_a_registrant_without_marketing_consent_can_unsubscribe_on_the_manage_page(client):
    event = make_event()
    ada = register_person(event, "ada@example.com")
    path = urlsplit(manage_url(ada)).path
    page = client.get(path)
    assert "Stop sending me news, reminders and emails after events" in page.text

    client.post(f"{path}/consent/withdraw", data={"csrf_token": csrf_token(page.text)})

    assert lead_of("ada@example.com").unsubscribed_at is not None
    assert "You are unsubscribed" in client.get(path).text
