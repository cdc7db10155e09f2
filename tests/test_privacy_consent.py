"""Consent you can prove and withdraw: each consent and withdrawal recorded with its time,
source and exact words; withdrawing by the manage page, an unsubscribe link or the API stops
marketing mail at once and shows in the CRM export."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from sqlalchemy import select

from app.db import db
from app.followup import export
from app.registrations.consent import WITHDRAWAL_TEXT, may_send_marketing, unsubscribe_url
from app.registrations.invitation_lists import Listed, personal_links
from app.registrations.links import manage_url
from app.registrations.models import ConsentRecord, Lead
from tests.builders import bearer, csrf_token, make_user, register_person
from tests.followup_fixtures import attend


def records(email: str) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    lead = db.session.scalars(select(Lead).where(Lead.email == email)).one()
    rows = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.lead_id == lead.id).order_by(ConsentRecord.id)
    )
    return [(row.action, row.source, row.text) for row in rows]


def lead_of(email: str) -> Lead:
    db.session.expire_all()
    return db.session.scalars(select(Lead).where(Lead.email == email)).one()


def salesforce_opt_out(email: str) -> str:
    table = list(csv.DictReader(io.StringIO("".join(export.lines("salesforce")).lstrip("\ufeff"))))
    (row,) = [row for row in table if email in row.values()]
    return row["Email Opt Out"]


def test_consent_from_the_form_and_the_api_is_recorded_with_its_exact_words(app, client, event):
    text = app.config["CONSENT_TEXT"]
    page = client.get("/e/launch-webinar")
    client.post(
        "/e/launch-webinar",
        data={
            "csrf_token": csrf_token(page.text),
            "email": "ada@example.com",
            "first_name": "Ada",
            "consent_marketing": "y",
        },
    )
    client.post(
        "/api/v1/events/launch-webinar/registrations",
        json={"email": "bob@example.com", "first_name": "Bob", "consent_marketing": True},
    )

    assert records("ada@example.com") == [("given", "form", text)]
    assert records("bob@example.com") == [("given", "api", text)]


def test_withdrawing_on_the_manage_page_stops_marketing_and_shows_in_the_crm_export(
    app, client, event
):
    ada = register_person(event, "ada@example.com", consent_marketing=True)
    assert may_send_marketing(lead_of("ada@example.com"))
    assert salesforce_opt_out("ada@example.com") == "0"
    path = urlsplit(manage_url(ada)).path
    page = client.get(path)

    client.post(f"{path}/consent/withdraw", data={"csrf_token": csrf_token(page.text)})

    assert not may_send_marketing(lead_of("ada@example.com"))
    assert records("ada@example.com")[-1] == ("withdrawn", "manage", WITHDRAWAL_TEXT)
    assert salesforce_opt_out("ada@example.com") == "1"


def test_an_unsubscribe_link_withdraws_with_one_post_and_a_forged_one_does_nothing(client, event):
    register_person(event, "ada@example.com", consent_marketing=True)
    path = urlsplit(unsubscribe_url(lead_of("ada@example.com"))).path

    assert client.get(path[:-2] + "xx").status_code == 404
    assert client.get(path).status_code == 200
    assert may_send_marketing(lead_of("ada@example.com"))
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert answer.status_code == 200
    assert not may_send_marketing(lead_of("ada@example.com"))
    assert records("ada@example.com")[-1][:2] == ("withdrawn", "link")


def test_the_api_withdraws_consent_for_managers_only(client, event):
    register_person(event, "ada@example.com", consent_marketing=True)
    path = "/api/v1/people/ADA@example.com/consent/withdraw"

    assert client.post(path, headers=bearer(make_user("rep"))).status_code == 403
    answer = client.post(path, headers=bearer(make_user("marketer")))

    assert answer.status_code == 200, answer.text
    assert answer.json["consent_marketing"] is False
    assert [c["action"] for c in answer.json["consents"]] == ["given", "withdrawn"]
    assert records("ada@example.com")[-1][:2] == ("withdrawn", "api")


def test_leads_an_import_creates_have_no_consent_recorded_since_no_file_carries_one(app, event):
    # An attendance report's walk-ins and a personal-links list are imports, but neither file
    # says the person agreed to marketing: recording consent ("import") would be a lie.
    attend(event, {"walk-in@example.com": 30})
    personal_links([Listed("listed@example.com", "Lee")], event.slug)

    for email in ("walk-in@example.com", "listed@example.com"):
        assert not lead_of(email).consent_marketing
        assert records(email) == []
