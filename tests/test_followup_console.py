"""Console pages for routing rules, follow-up settings, routing on demand, lead-quality feedback
and the CRM export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from app.db import db, utcnow
from app.followup.models import FollowUp, RoutingRule
from app.followup.routing import route_followups
from app.followup.rules import ordered_rules, save_rule
from app.followup.scoring import load_settings
from app.followup.services import update_followup
from tests.builders import csrf_token, log_in, make_event, make_user, register_person
from tests.followup_fixtures import after, followup_of, make_rep


def signed_in_admin(client):  # type: ignore[no-untyped-def]
    admin = make_user("admin", "boss@example.com")
    log_in(client, admin)
    return admin


def test_an_admin_adds_a_pool_rule_in_the_console_and_routing_uses_it(app, client, event):
    signed_in_admin(client)
    ana = make_rep("ana@example.com", name="Ana")
    ben = make_rep("ben@example.com", name="Ben")
    token = csrf_token(client.get("/admin/routing/rules/new").get_data(as_text=True))

    response = client.post(
        "/admin/routing/rules/new",
        data={
            "csrf_token": token,
            "name": "Leaders in EMEA",
            "active": "y",
            "regions": ["EMEA"],
            "title_keywords": "VP, Head",
            "target": "pool",
            f"weight_{ana.id}": "1",
            f"weight_{ben.id}": "3",
        },
    )

    assert response.status_code == 303
    rule = db.session.scalars(select(RoutingRule)).one()
    assert (rule.regions, rule.title_keywords) == (["EMEA"], ["VP", "Head"])
    assert {(m.rep_id, m.weight) for m in rule.members} == {(ana.id, 1), (ben.id, 3)}
    for i in range(8):
        register_person(event, f"vp{i}@firm{i}.example", country="FR", job_title="VP Sales")
    result = route_followups(event.id, now=after(event))
    assert result.by_rep == {"ana@example.com": 2, "ben@example.com": 6}
    page = client.get("/admin/routing").get_data(as_text=True)
    assert "Leaders in EMEA" in page and "Ana ×1" in page and "Ben ×3" in page


def test_a_rule_the_console_refuses_names_the_field_and_saves_nothing(app, client):
    signed_in_admin(client)
    rep = make_rep("ana@example.com")
    token = csrf_token(client.get("/admin/routing/rules/new").get_data(as_text=True))

    response = client.post(
        "/admin/routing/rules/new",
        data={
            "csrf_token": token,
            "name": "Broken",
            "countries": "US, Atlantis",
            "target": "rep",
            "target_rep": str(rep.id),
        },
    )

    assert response.status_code == 422
    assert "is not a two-letter ISO 3166 country code" in response.get_data(as_text=True)
    assert db.session.scalars(select(RoutingRule)).all() == []


def test_rules_are_reordered_and_deleted_in_the_console(app, client):
    signed_in_admin(client)
    rep = make_rep("ana@example.com")
    first = save_rule(None, {"name": "First", "target_rep_id": rep.id})
    second = save_rule(None, {"name": "Second", "target_rep_id": rep.id})
    token = csrf_token(client.get("/admin/routing").get_data(as_text=True))

    client.post(
        f"/admin/routing/rules/{second.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert [r.name for r in ordered_rules()] == ["Second", "First"]
    client.post(f"/admin/routing/rules/{first.id}/delete", data={"csrf_token": token})
    assert [r.name for r in ordered_rules()] == ["Second"]


def test_routing_on_demand_from_the_console_creates_no_duplicates(app, client, event):
    signed_in_admin(client)
    make_rep("ana@example.com")
    register_person(event, "p@firm.example")
    event.starts_at = utcnow() - timedelta(hours=3)
    event.ends_at = event.starts_at + timedelta(hours=1)
    db.session.commit()
    token = csrf_token(client.get("/admin/routing").get_data(as_text=True))

    first = client.post("/admin/routing/run", data={"csrf_token": token, "event": event.slug})
    second = client.post("/admin/routing/run", data={"csrf_token": token, "event": event.slug})

    assert first.status_code == second.status_code == 303
    assert len(db.session.scalars(select(FollowUp)).all()) == 1
    page = client.get("/admin/routing").get_data(as_text=True)
    assert "already has a follow-up" in page


def test_reps_cannot_reach_the_routing_console(app, client):
    rep = make_rep("ana@example.com")
    log_in(client, rep)
    assert client.get("/admin/routing").status_code == 403
    assert client.get("/admin/feedback").status_code == 403
    assert client.get("/admin/leads.csv").status_code == 403


def test_slas_and_business_hours_are_changed_in_the_console(app, client):
    signed_in_admin(client)
    token = csrf_token(client.get("/admin/routing/settings").get_data(as_text=True))
    values = {
        "csrf_token": token,
        "hot_score": "70",
        "warm_score": "30",
        "sla_hot": "30",
        "sla_warm": "240",
        "sla_cold": "960",
        "workday_start": "08:00",
        "workday_end": "16:00",
        "workdays": ["0", "1", "2", "3"],
        "escalate_after_minutes": "90",
        "route_after_minutes": "60",
    }

    refused = client.post("/admin/routing/settings", data={**values, "workday_end": "07:00"})
    saved = client.post("/admin/routing/settings", data=values)

    assert refused.status_code == 422
    assert "must end after it starts" in refused.get_data(as_text=True)
    assert saved.status_code == 303
    settings = load_settings()
    assert settings.sla_minutes == {"hot": 30, "warm": 240, "cold": 960}
    assert settings.workdays == frozenset({0, 1, 2, 3})
    assert settings.escalate_after_minutes == 90


def routed_with_outcomes(event):  # type: ignore[no-untyped-def]
    """Five leads from two sources, worked with known delays after the event's end."""
    rep = make_rep("ana@example.com")
    sources = ["linkedin", "linkedin", "linkedin", "newsletter", "newsletter"]
    for i, source in enumerate(sources):
        register_person(event, f"p{i}@firm{i}.example", utm_source=source)
    route_followups(event.id, now=after(event, 0))
    outcomes = [
        ("p0", "contacted", None, 1),
        ("p1", "qualified", None, 3),
        ("p2", "disqualified", "no_budget", 5),
        ("p3", "converted", None, 10),
        ("p4", "disqualified", "student", 2),
    ]
    for who, status, reason, hours in outcomes:
        followup = followup_of(f"{who}@firm{who[1]}.example")
        update_followup(
            followup.id,
            rep,
            {"status": status, "reason": reason},
            now=event.ends_at + timedelta(hours=hours),
        )
    return rep


def test_lead_quality_per_source_counts_outcomes_and_speed_to_lead(app, client, event):
    routed_with_outcomes(event)
    log_in(client, make_user("marketer", "m@example.com"))

    html = client.get("/admin/feedback?by=utm_source").get_data(as_text=True)

    linkedin = html.split('<th scope="row">linkedin</th>')[1].split("</tr>")[0]
    cells = [c.split(">")[1] for c in linkedin.split("</td>")[:-1]]
    # routed, accepted, qualified, disqualified, converted, median, p90, reasons
    assert cells[:7] == ["3", "2", "1", "1", "0", "3.0 h", "5.0 h"]
    assert "No budget: 1" in cells[7]
    by_campaign = client.get("/admin/feedback").get_data(as_text=True)
    spring = by_campaign.split('<th scope="row">Spring launch</th>')[1].split("</tr>")[0]
    assert [c.split(">")[1] for c in spring.split("</td>")[:5]] == ["5", "3", "2", "2", "1"]


def test_the_crm_export_maps_columns_and_neutralises_formulas(app, client, event):
    make_rep("ana@example.com")
    register_person(
        event,
        "evil@firm.example",
        first_name='=HYPERLINK("http://x")',
        last_name="@SUM(A1)",
        company="+Acme",
        job_title="-Boss",
        phone="+14155550100",
        country="US",
        utm_source="linkedin",
        consent_marketing=True,
    )
    route_followups(event.id, now=after(event))
    log_in(client, make_user("marketer", "m@example.com"))

    salesforce = client.get("/admin/leads.csv?crm=salesforce")
    sf_text = salesforce.get_data(as_text=True)
    hs_text = client.get("/admin/leads.csv?crm=hubspot").get_data(as_text=True)

    assert salesforce.mimetype == "text/csv"
    assert "attachment" in salesforce.headers["Content-Disposition"]
    sf_rows = list(csv.DictReader(io.StringIO(sf_text.lstrip("\ufeff"))))
    hs_rows = list(csv.DictReader(io.StringIO(hs_text.lstrip("\ufeff"))))
    sf, hs = sf_rows[0], hs_rows[0]
    assert sf["First Name"] == '\'=HYPERLINK("http://x")'
    assert sf["Last Name"] == "'@SUM(A1)"
    assert sf["Company"] == "'+Acme" and sf["Title"] == "'-Boss"
    assert sf["Phone"] == "+14155550100"
    assert sf["Country"] == "United States"
    assert sf["Lead Status"] == "Open - Not Contacted"
    assert sf["Record Owner"] == "ana@example.com"
    # The lead consented: Salesforce's Data Import Wizard reads `0` as "wants emails".
    assert sf["Email Opt Out"] == "0"
    assert sf["UTM Source"] == "linkedin"
    assert hs["Email"] == "evil@firm.example"
    assert hs["Company Name"] == "'+Acme" and hs["Job Title"] == "'-Boss"
    assert hs["Lead Status"] == "OPEN" and hs["Lifecycle Stage"] == "lead"
    assert hs["Contact owner"] == "ana@example.com"
    assert hs["Marketing consent"] == "true"


def test_the_export_shows_the_reps_verdict_from_the_leads_latest_follow_up(app, client, event):
    rep = make_rep("ana@example.com")
    register_person(event, "p@firm.example")
    route_followups(event.id, now=after(event))
    update_followup(followup_of("p@firm.example", event).id, rep, {"status": "contacted"})
    later = make_event(slug="later-webinar", starts_at=event.starts_at + timedelta(days=7))
    register_person(later, "p@firm.example")
    route_followups(later.id, now=after(later))
    update_followup(
        followup_of("p@firm.example", later).id,
        rep,
        {"status": "disqualified", "reason": "competitor"},
    )
    log_in(client, make_user("marketer", "m@example.com"))

    body = client.get("/admin/leads.csv").get_data(as_text=True).lstrip("\ufeff")
    (row,) = csv.DictReader(io.StringIO(body))  # one row per lead, not per follow-up

    assert row["Event"] == "later-webinar"
    assert row["Lead Status"] == "Closed - Not Converted"
    assert row["Follow-up Outcome"] == "disqualified"
    assert row["Disqualified Reason"] == "Chose or uses a competitor"
    assert row["Company"] == "[not provided]"


def test_a_lead_without_marketing_consent_is_opted_out_as_salesforce_documents_it(
    app, client, event
):
    make_rep("ana@example.com")
    register_person(event, "quiet@firm.example", consent_marketing=False)
    route_followups(event.id, now=after(event))
    log_in(client, make_user("marketer", "m@example.com"))

    sf_text = client.get("/admin/leads.csv?crm=salesforce").get_data(as_text=True)
    hs_text = client.get("/admin/leads.csv?crm=hubspot").get_data(as_text=True)

    (sf,) = csv.DictReader(io.StringIO(sf_text.lstrip("\ufeff")))
    (hs,) = csv.DictReader(io.StringIO(hs_text.lstrip("\ufeff")))
    # Salesforce's Data Import Wizard: `1` opts out; its owner column is Record Owner.
    assert sf["Email Opt Out"] == "1"
    assert sf["Record Owner"] == "ana@example.com"
    assert "Lead Owner" not in sf
    assert hs["Marketing consent"] == "false"
