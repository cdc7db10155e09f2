"""A question mapped to a routing fact makes its answer the lead's segment, so segment rules
match registrants of the landing page; and the routing rules API keeps the console's table."""

from __future__ import annotations

import pytest

from app.events.models import Event
from app.followup.routing import route_followups
from app.followup.rules import save_rule, segment_of
from app.registrations.questions import COMPANY_SIZE_BANDS, add_question
from tests.builders import bearer, log_in, make_user, register_person
from tests.followup_fixtures import after, followup_of, make_rep
from tests.questions_fixtures import post_landing_form

HEADCOUNT = {
    "key": "headcount",
    "label": "How many people work at your company?",
    "type": "select",
    "options": list(COMPANY_SIZE_BANDS),
    "maps_to": "company_size",
}


def test_the_company_size_bands_are_the_ones_routing_maps_to_segments():
    segments = [segment_of({"size": band}, {"size": "company_size"}) for band in COMPANY_SIZE_BANDS]
    assert segments == ["smb", "mid-market", "enterprise"]


def test_a_mapped_company_size_from_the_landing_page_routes_by_a_segment_rule(client, event):
    enterprise = make_rep("enterprise@example.com")
    admin = bearer(make_user("admin"))
    rule = client.post(
        "/api/v1/routing/rules",
        json={
            "name": "Enterprise",
            "conditions": {"segments": ["enterprise"]},
            "rep": "enterprise@example.com",
        },
        headers=admin,
    )
    assert rule.status_code == 201, rule.json
    add_question(event.id, HEADCOUNT)
    for email, band in (("big@corp.com", "1000+"), ("small@shop.com", "1-99")):
        response = post_landing_form(client, event.slug, email, {"answers.headcount": band})
        assert response.status_code == 303

    route_followups(event.id, now=after(event))

    big, small = followup_of("big@corp.com"), followup_of("small@shop.com")
    assert (big.rep_id, big.rule_id) == (enterprise.id, rule.json["id"])
    assert "segment enterprise" in big.why
    assert small.rule_id is None
    # The rep reads the answer under its question's label.
    log_in(client, enterprise)
    detail = client.get(f"/followups/{big.id}").text
    assert "How many people work at your company?: 1000+" in detail


def test_a_question_mapped_to_segment_gives_the_segment_as_answered(app, event):
    smb = make_rep("smb@example.com")
    add_question(
        event.id,
        {
            "key": "tier",
            "label": "Tier",
            "type": "select",
            "options": ["SMB", "Enterprise"],
            "maps_to": "segment",
        },
    )
    save_rule(None, {"name": "Small", "segments": ["smb"], "target_rep_id": smb.id})
    register_person(event, "ada@shop.com", answers={"tier": "SMB"})

    route_followups(event.id, now=after(event))

    assert followup_of("ada@shop.com").rep_id == smb.id


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("admin"))


def test_an_admin_keeps_the_routing_table_through_the_api(client, admin):
    make_rep("rita@example.com")
    make_rep("emil@example.com")
    first = client.post(
        "/api/v1/routing/rules",
        json={
            "name": "Germany",
            "conditions": {"countries": ["de"], "title_keywords": ["VP"]},
            "rep": "Rita@example.com",
        },
        headers=admin,
    )
    assert first.status_code == 201, first.json
    assert first.json["conditions"]["countries"] == ["DE"]
    assert (first.json["rep"], first.json["pool"], first.json["position"]) == (
        "rita@example.com",
        [],
        1,
    )
    pool = client.post(
        "/api/v1/routing/rules",
        json={
            "name": "EMEA",
            "position": 1,
            "conditions": {"regions": ["EMEA"]},
            "pool": [{"rep": "emil@example.com", "weight": 2}, {"rep": "rita@example.com"}],
        },
        headers=admin,
    )
    assert pool.status_code == 201, pool.json
    assert pool.json["position"] == 1
    assert sorted((m["rep"], m["weight"]) for m in pool.json["pool"]) == [
        ("emil@example.com", 2),
        ("rita@example.com", 1),
    ]
    listed = client.get("/api/v1/routing/rules", headers=admin).json
    assert [rule["name"] for rule in listed["items"]] == ["EMEA", "Germany"]

    changed = client.patch(
        f"/api/v1/routing/rules/{first.json['id']}",
        json={"active": False, "conditions": {"countries": ["AT"]}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["active"] is False
    assert changed.json["conditions"]["countries"] == ["AT"]
    assert changed.json["conditions"]["title_keywords"] == ["VP"]
    assert changed.json["rep"] == "rita@example.com"

    gone = client.delete(f"/api/v1/routing/rules/{pool.json['id']}", headers=admin)
    assert gone.status_code == 204
    assert client.get("/api/v1/routing/rules", headers=admin).json["total"] == 1
    assert (
        client.delete(f"/api/v1/routing/rules/{pool.json['id']}", headers=admin).status_code == 404
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "X", "rep": "nobody@example.com"}, "rep"),
        ({"name": "X"}, "rep"),
        ({"name": "X", "rep": "rita@example.com", "pool": [{"rep": "rita@example.com"}]}, "rep"),
        ({"name": "X", "pool": [{"rep": "nobody@example.com"}]}, "pool.0.rep"),
        (
            {"name": "X", "rep": "rita@example.com", "conditions": {"countries": ["XX"]}},
            "conditions.countries",
        ),
        (
            {"name": "X", "rep": "rita@example.com", "conditions": {"regions": ["MARS"]}},
            "conditions.regions",
        ),
        ({"name": "", "rep": "rita@example.com"}, "name"),
        ({"name": "X", "pool": [{"rep": "rita@example.com", "weight": 0}]}, "pool.0.weight"),
    ],
)
def test_a_rule_the_rules_refuse_is_refused_naming_the_field(client, admin, body, field):
    make_rep("rita@example.com")
    response = client.post("/api/v1/routing/rules", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("role", ["marketer", "rep"])
def test_only_admins_keep_the_routing_table(client, app, role):
    headers = bearer(make_user(role))
    assert client.get("/api/v1/routing/rules", headers=headers).status_code == 403
    body = {"name": "X", "rep": "x@example.com"}
    assert client.post("/api/v1/routing/rules", json=body, headers=headers).status_code == 403


def test_the_demo_webinars_executives_rule_matches_a_landing_page_registrant_of_1000_plus(
    runner, client
):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    page = client.get("/e/demo-webinar").text
    assert "Company size" in page and "How did you hear about us?" in page
    response = post_landing_form(
        client,
        "demo-webinar",
        "pat@bigcorp.com",
        {"answers.company_size": "1000+", "answers.heard_about_us": "Partner"},
    )
    assert response.status_code == 303
    event = Event.query.filter_by(slug="demo-webinar").one()

    route_followups(event.id, now=after(event))

    followup = followup_of("pat@bigcorp.com")
    assert followup.rep.email == "rita.rep@example.com"
    assert followup.why.startswith("Rule “Executives” (segment enterprise)")
