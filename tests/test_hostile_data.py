"""Hostile data stored through every public input (the landing form, its campaign parameters and
referrer, the registration API with answers) and through staff inputs that show on pages, then
every page, export and email that shows it: each answers 200, markup from the data arrives
escaped, and nothing answers 500. Lone surrogates never get in (tests/test_input_door.py)."""

from __future__ import annotations

import email
import re
from email.message import Message
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.db import db
from app.followup.models import FollowUp
from app.followup.routing import route_followups
from app.mail.letters import write_unwritten
from app.mail.models import OutboxMessage
from tests.builders import bearer, csrf_token, log_in, make_user
from tests.followup_fixtures import after, make_rep

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
RTL = "\u202egnp.exe"
EMOJI = "👩🏽‍💻🔥"
CONTROL = "tab\there"
HOSTILE = f"{SCRIPT}{IMG}{RTL}{EMOJI}"
TEN_KB = ("A" + SCRIPT) * (10 * 1024 // (len(SCRIPT) + 1))
# What must never reach a page or an email as markup.
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror")


def assert_escaped(text: str, where: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in text, f"raw markup from the data in {where}"


def html_parts(raw: bytes) -> list[str]:
    message: Message = email.message_from_bytes(raw)
    parts = []
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return parts


@pytest.fixture
def hostile_event(client):
    """An event staff described with markup in every free-text field."""
    admin = bearer(make_user("admin"))
    body = {
        "slug": "hostile",
        "title": f"Launch {SCRIPT}{EMOJI}",
        "description": f"{TEN_KB}\n\n{IMG}\n\n[x](javascript:alert(3))",
        "starts_at": "2030-05-04T13:00:00Z",
        "duration_minutes": 60,
        "timezone": "Europe/Berlin",
        "join_url": "https://meet.example.com/x",
        "location": f"Room {IMG}",
        "campaign": f"Spring {SCRIPT}",
        "status": "published",
    }
    response = client.post("/api/v1/events", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json


def test_hostile_data_from_every_public_input_renders_escaped_everywhere(client, hostile_event):
    slug = hostile_event["slug"]
    make_rep("rita@example.com")

    # The landing form, with hostile campaign parameters and referrer carried through it.
    utm = {"utm_source": HOSTILE, "utm_medium": RTL, "utm_campaign": SCRIPT}
    page = client.get(f"/e/{slug}", query_string=utm, headers={"Referer": f"https://x/{IMG}"})
    assert page.status_code == 200
    assert_escaped(page.text, "the landing page")
    fields = {
        "csrf_token": csrf_token(page.text),
        "email": "form@example.com",
        "first_name": f"{SCRIPT}{EMOJI}",
        "last_name": IMG,
        "company": RTL,
        "job_title": CONTROL.replace("\t", " "),
        "country": "DE",
        "phone": "",
        "consent_marketing": "y",
        **utm,
        "referrer": f"https://x/{IMG}",
    }
    posted = client.post(f"/e/{slug}", data=fields)
    assert posted.status_code == 303, posted.text[:2000]
    thanks = urlsplit(posted.headers["Location"]).path
    manage = thanks.removesuffix("/thanks")

    # The API, with hostile answers (multi-line text may keep tabs and line breaks).
    api = client.post(
        f"/api/v1/events/{slug}/registrations",
        json={
            "email": "api@example.com",
            "first_name": IMG,
            "last_name": SCRIPT,
            "company": HOSTILE,
            "answers": {SCRIPT: IMG, "team": f"{CONTROL}\n{SCRIPT}", "tools": [EMOJI, RTL]},
        },
    )
    assert api.status_code == 201, api.text
    # A 10 KB name is more than its column holds: refused naming the field, not a 500.
    too_long = client.post(
        f"/api/v1/events/{slug}/registrations",
        json={"email": "long@example.com", "first_name": TEN_KB},
    )
    assert too_long.status_code == 422
    assert "first_name" in too_long.json["error"]["fields"]

    # The registrant's own pages.
    for path in (thanks, manage, f"{manage}/invite.ics", f"/e/{slug}.ics", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            assert_escaped(text, path)

    # Follow-ups with a hostile note from staff, then every console page that shows them.
    route_followups(_event_id(slug), now=_after(slug))
    followups = db.session.scalars(select(FollowUp)).all()
    assert followups
    log_in(client, make_user("admin"))
    detail = f"/followups/{followups[0].id}"
    note = client.patch(
        f"/api/v1/followups/{followups[0].id}",
        json={"note": f"{TEN_KB[:4000]}\n{IMG}"},
        headers=bearer(make_user("admin")),
    )
    assert note.status_code == 200, note.text
    pages = [
        "/admin/events",
        f"/admin/events/{slug}",
        f"/admin/events/{slug}/preview",
        f"/admin/events/{slug}/edit",
        f"/admin/events/{slug}/registrations",
        f"/admin/events/{slug}/registrations?q={SCRIPT}",
        f"/admin/events/{slug}/registrations.csv",
        f"/admin/events/{slug}/attendance",
        f"/admin/events/{slug}/report",
        "/admin/reports",
        "/admin/leads.csv?crm=salesforce",
        "/admin/leads.csv?crm=hubspot",
        "/admin/routing",
        "/followups",
        f"/followups?event={slug}",
        detail,
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        text = response.get_data(as_text=True)
        # Calendar files and CSV are text, not markup; a page is HTML and must escape it.
        if response.mimetype == "text/html":
            assert_escaped(text, path)

    # The API's answers carry the data as JSON text, not markup to run.
    listed = client.get(f"/api/v1/events/{slug}/registrations", headers=bearer(make_user()))
    assert listed.status_code == 200
    assert listed.mimetype == "application/json"

    # Every email composed for these registrants (the worker writes them before sending).
    assert write_unwritten() > 0
    db.session.expire_all()
    messages = db.session.scalars(select(OutboxMessage)).all()
    checked = 0
    for message in messages:
        assert message.content is not None
        for html in html_parts(message.content):
            assert_escaped(html, f"the {message.kind} email")
            checked += 1
        assert "\n" not in message.subject and "\r" not in message.subject
    assert checked >= 2


def _event_id(slug: str) -> int:
    from app.events.services import by_slug

    event = by_slug(slug)
    assert event is not None
    return event.id


def _after(slug: str):  # type: ignore[no-untyped-def]
    from app.events.services import by_slug

    event = by_slug(slug)
    assert event is not None
    return after(event)


def test_markup_in_the_ics_feed_cannot_break_out_of_its_fields(client, hostile_event):
    text = client.get(f"/e/{hostile_event['slug']}.ics").get_data(as_text=True)
    # A line break in a value would start a new iCalendar property of the attacker's choosing.
    assert not re.search(r"\r\n(?![ \t])[^A-Z\r]", text)
