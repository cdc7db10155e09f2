"""The leads API: a rep sees only their own leads; admins and marketers see them all."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.db import db
from app.registrations.models import Lead
from tests.builders import bearer, make_event, make_user, register_person

LEAD_FIELDS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "country",
    "owner",
    "status",
    "score",
    "events",
}


def lead_of(email: str) -> Lead:
    return db.session.scalars(select(Lead).where(Lead.email == email)).one()


def give(email: str, owner_id: int | None) -> None:
    db.session.execute(update(Lead).where(Lead.email == email).values(owner_id=owner_id))
    db.session.commit()


@pytest.fixture
def people(app):  # type: ignore[no-untyped-def]
    """Two reps with one lead each, and a lead with no owner yet."""
    launch = make_event()
    summit = make_event(slug="summit")
    rita, emil = make_user("rep", "rita@example.com"), make_user("rep", "emil@example.com")
    register_person(launch, "ada@example.com", company="Engines", country="GB")
    register_person(summit, "ada@example.com")
    register_person(launch, "grace@example.com")
    register_person(summit, "linus@example.com")
    give("ada@example.com", rita.id)
    give("grace@example.com", emil.id)
    return {"rita": rita, "emil": emil}


def test_a_rep_lists_only_their_own_leads(client, people):
    response = client.get("/api/v1/leads", headers=bearer(people["rita"]))
    assert response.status_code == 200
    body = response.json
    assert [item["email"] for item in body["items"]] == ["ada@example.com"]
    assert body["total"] == 1
    lead = body["items"][0]
    assert set(lead) == LEAD_FIELDS
    assert lead["owner"] == "rita@example.com"
    assert lead["events"] == ["launch-webinar", "summit"]
    assert (lead["company"], lead["country"], lead["status"]) == ("Engines", "GB", "new")


def test_another_reps_lead_is_not_found(client, people):
    grace = lead_of("grace@example.com")
    response = client.get(f"/api/v1/leads/{grace.id}", headers=bearer(people["rita"]))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_a_rep_reads_their_own_lead(client, people):
    ada = lead_of("ada@example.com")
    response = client.get(f"/api/v1/leads/{ada.id}", headers=bearer(people["rita"]))
    assert response.status_code == 200
    assert response.json["id"] == ada.id
    assert response.json["events"] == ["launch-webinar", "summit"]


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_admins_and_marketers_see_every_lead(client, people, role):
    headers = bearer(make_user(role))
    body = client.get("/api/v1/leads", headers=headers).json
    owners = {item["email"]: item["owner"] for item in body["items"]}
    assert owners == {
        "ada@example.com": "rita@example.com",
        "grace@example.com": "emil@example.com",
        "linus@example.com": None,
    }
    linus = lead_of("linus@example.com")
    assert client.get(f"/api/v1/leads/{linus.id}", headers=headers).status_code == 200


def test_unknown_lead_ids_are_not_found(client, people):
    admin = bearer(make_user("admin"))
    assert client.get("/api/v1/leads/999999", headers=admin).status_code == 404
    huge = client.get("/api/v1/leads/99999999999999999999", headers=admin)
    assert huge.status_code == 404
    assert huge.json["error"]["code"] == "not_found"


def test_leads_filter_by_status_and_search(client, people):
    admin = bearer(make_user("admin"))
    db.session.execute(update(Lead).where(Lead.email == "grace@example.com").values(status="open"))
    db.session.commit()
    opened = client.get("/api/v1/leads?status=open", headers=admin).json
    assert [item["email"] for item in opened["items"]] == ["grace@example.com"]
    found = client.get("/api/v1/leads?q=ENGINES", headers=admin).json
    assert [item["email"] for item in found["items"]] == ["ada@example.com"]
    bad = client.get("/api/v1/leads?status=hot", headers=admin)
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]


def test_lead_pages_follow_next_links(client, people):
    admin = bearer(make_user("admin"))
    page = client.get("/api/v1/leads?limit=2", headers=admin).json
    emails = [item["email"] for item in page["items"]]
    assert page["next"] is not None
    page = client.get(page["next"], headers=admin).json
    emails += [item["email"] for item in page["items"]]
    assert page["next"] is None
    assert sorted(emails) == ["ada@example.com", "grace@example.com", "linus@example.com"]
