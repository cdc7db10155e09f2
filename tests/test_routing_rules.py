"""Which rep a lead goes to: the default routing, the ordered rules and their conditions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from app.followup.routing import RoutingRefused, route_followups
from app.followup.rules import RuleRejected, save_rule
from tests.builders import make_event, register_person
from tests.followup_fixtures import after, bulk_registrants, followup_of, make_rep


def test_default_routing_sends_a_lead_to_the_rep_covering_its_country(app, event):
    make_rep("rita@example.com", countries=("US", "CA"))
    emil = make_rep("emil@example.com", countries=("DE", "FR"))
    register_person(event, "klaus@firma.de", country="DE")

    route_followups(event.id, now=after(event))

    followup = followup_of("klaus@firma.de")
    assert followup.rep_id == emil.id
    assert "covers DE" in followup.why
    assert followup.lead.owner_id == emil.id


def test_a_lead_no_rep_covers_goes_round_robin_over_all_active_reps(app, event):
    rita = make_rep("rita@example.com", countries=("US",))
    emil = make_rep("emil@example.com", countries=("DE",))
    for i in range(4):
        register_person(event, f"p{i}@shop{i}.jp", country="JP")

    route_followups(event.id, now=after(event))

    reps = Counter(followup_of(f"p{i}@shop{i}.jp").rep_id for i in range(4))
    assert reps == {rita.id: 2, emil.id: 2}
    assert "no available rep covers JP" in followup_of("p0@shop0.jp").why


def test_the_first_matching_rule_in_table_order_wins(app, event):
    first = make_rep("first@example.com")
    second = make_rep("second@example.com")
    save_rule(None, {"name": "Germany", "countries": ["DE"], "target_rep_id": first.id})
    save_rule(None, {"name": "EMEA", "regions": ["EMEA"], "target_rep_id": second.id})
    register_person(event, "a@firma.de", country="DE")
    register_person(event, "b@societe.fr", country="FR")

    route_followups(event.id, now=after(event))

    assert followup_of("a@firma.de").rep_id == first.id
    assert followup_of("a@firma.de").why.startswith("Rule “Germany” (country DE) sends it")
    assert followup_of("b@societe.fr").rep_id == second.id
    assert "region EMEA" in followup_of("b@societe.fr").why


def test_every_condition_of_a_rule_must_match(app, event):
    enterprise = make_rep("enterprise@example.com")
    fallback = make_rep("fallback@example.com", countries=("US",))
    save_rule(
        None,
        {
            "name": "Enterprise leaders",
            "regions": ["AMER"],
            "segments": ["enterprise"],
            "campaigns": ["Spring launch"],
            "title_keywords": ["VP", "director"],
            "target_rep_id": enterprise.id,
        },
    )
    register_person(
        event,
        "boss@bigco.com",
        country="US",
        job_title="Director of IT",
        answers={"company_size": "5,000+"},
    )
    register_person(
        event, "small@tinyco.com", country="US", job_title="Director", answers={"employees": "12"}
    )
    register_person(
        event,
        "engineer@bigco2.com",
        country="US",
        job_title="Directory engineer",
        answers={"company_size": "2000"},
    )

    route_followups(event.id, now=after(event))

    boss = followup_of("boss@bigco.com")
    assert boss.rep_id == enterprise.id
    assert (
        "region AMER, segment enterprise, campaign Spring launch, job title containing “director”"
        in boss.why
    )
    assert followup_of("small@tinyco.com").rep_id == fallback.id
    # "Directory" is not the keyword "director": keywords match whole words.
    assert followup_of("engineer@bigco2.com").rep_id == fallback.id


def test_an_email_domain_rule_matches_the_domain_and_its_subdomains(app, event):
    partner_rep = make_rep("partners@example.com")
    make_rep("other@example.com")
    save_rule(
        None,
        {"name": "Partner", "email_domains": ["partner.io"], "target_rep_id": partner_rep.id},
    )
    register_person(event, "a@partner.io")
    register_person(event, "b@eu.partner.io")
    register_person(event, "c@notpartner.io")

    route_followups(event.id, now=after(event))

    assert followup_of("a@partner.io").rep_id == partner_rep.id
    assert followup_of("b@eu.partner.io").rep_id == partner_rep.id
    assert followup_of("c@notpartner.io").why.startswith("No rule matched")


def test_a_rule_pool_splits_leads_by_weight(app, event):
    light = make_rep("light@example.com")
    heavy = make_rep("heavy@example.com")
    save_rule(None, {"name": "Everyone", "members": [(light.id, 1), (heavy.id, 3)]})
    bulk_registrants(event, 400)

    result = route_followups(event.id, now=after(event))

    assert result.by_rep == {"light@example.com": 100, "heavy@example.com": 300}


def test_a_rule_whose_rep_is_out_of_office_falls_through_and_why_says_so(app, event):
    away = make_rep("away@example.com", name="Away Rep", out_of_office_until=event.ends_at.date())
    backup = make_rep("backup@example.com", name="Backup Rep")
    save_rule(None, {"name": "Germany", "countries": ["DE"], "target_rep_id": away.id})
    save_rule(None, {"name": "Catch-all", "target_rep_id": backup.id})
    register_person(event, "klaus@firma.de", country="DE")

    route_followups(event.id, now=after(event))

    followup = followup_of("klaus@firma.de")
    assert followup.rep_id == backup.id
    assert followup.why == (
        "Rule “Catch-all” (every lead) sends it to Backup Rep, passing over Away Rep "
        f"(out of office until {event.ends_at.date().isoformat()})."
    )


def test_a_rule_needs_a_name_and_a_target(app):
    rep = make_rep("rep@example.com")
    with pytest.raises(RuleRejected) as refused:
        save_rule(None, {"name": " ", "countries": ["XX"]})
    assert set(refused.value.fields) == {"name", "countries", "target"}
    with pytest.raises(RuleRejected) as refused:
        save_rule(None, {"name": "Pool", "members": [(rep.id, 0)]})
    assert "members" in refused.value.fields


def test_routing_waits_until_the_event_has_ended(app, event):
    register_person(event, "early@firma.de")
    with pytest.raises(RoutingRefused):
        route_followups(event.id, now=event.ends_at - timedelta(minutes=1))


def test_with_no_active_rep_the_followup_is_flagged_for_an_admin(app):
    event = make_event(slug="lonely")
    register_person(event, "alone@firma.de")

    result = route_followups(event.id, now=after(event))

    followup = followup_of("alone@firma.de")
    assert result.unassigned == 1
    assert followup.rep_id is None
    assert followup.flagged_at is not None
    assert "an admin must assign it" in followup.why
