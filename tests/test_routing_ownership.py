"""Leads keep their owner, and colleagues from one company reach the same rep (but not people
who share gmail.com)."""

from __future__ import annotations

from datetime import timedelta

from app.followup.routing import route_followups
from tests.builders import make_event, register_person
from tests.followup_fixtures import after, followup_of, make_rep, set_rep


def test_a_lead_that_has_an_owner_stays_with_that_owner(app):
    first = make_event(slug="first")
    reps = [make_rep(f"rep{i}@example.com") for i in range(3)]
    register_person(first, "anna@acme.example")
    route_followups(first.id, now=after(first))
    owner_id = followup_of("anna@acme.example", first).rep_id

    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    for i in range(5):
        register_person(second, f"someone{i}@other{i}.example")
    register_person(second, "anna@acme.example")
    route_followups(second.id, now=after(second))

    again = followup_of("anna@acme.example", second)
    assert again.rep_id == owner_id
    assert again.why.endswith("who already owns this lead.")
    assert len(reps) == 3


def test_colleagues_from_one_company_domain_go_to_the_same_rep(app, event):
    for i in range(4):
        make_rep(f"rep{i}@example.com")
    colleagues = [f"person{i}@acme.example" for i in range(6)]
    for i, email in enumerate(colleagues):
        register_person(event, email)
        register_person(event, f"stranger{i}@firm{i}.example")

    route_followups(event.id, now=after(event))

    reps = {followup_of(email).rep_id for email in colleagues}
    assert len(reps) == 1
    assert "who works with others at acme.example" in followup_of("person5@acme.example").why


def test_a_later_colleague_reaches_the_company_rep_at_the_next_event(app):
    first = make_event(slug="first")
    for i in range(3):
        make_rep(f"rep{i}@example.com")
    register_person(first, "cto@acme.example")
    register_person(first, "x@firm.example")
    route_followups(first.id, now=after(first))
    company_rep = followup_of("cto@acme.example").rep_id

    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    register_person(second, "y@firm2.example")
    register_person(second, "ceo@acme.example")
    route_followups(second.id, now=after(second))

    assert followup_of("ceo@acme.example").rep_id == company_rep


def test_free_mail_addresses_are_not_grouped_as_one_company(app, event):
    reps = [make_rep(f"rep{i}@example.com") for i in range(3)]
    for i in range(6):
        register_person(event, f"someone{i}@gmail.com")

    route_followups(event.id, now=after(event))

    owners = [followup_of(f"someone{i}@gmail.com").rep_id for i in range(6)]
    assert sorted(owners) == sorted([rep.id for rep in reps] * 2)
    assert "gmail.com" not in followup_of("someone5@gmail.com").why


def test_an_owner_out_of_office_is_passed_over_and_the_lead_moves_with_the_reason(app):
    first = make_event(slug="first")
    owner = make_rep("owner@example.com", name="Olga Owner")
    register_person(first, "anna@acme.example")
    route_followups(first.id, now=after(first))
    assert followup_of("anna@acme.example").rep_id == owner.id

    cover = make_rep("cover@example.com", name="Cora Cover")
    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    set_rep(owner, out_of_office_until=second.ends_at.date() + timedelta(days=2))
    register_person(second, "anna@acme.example")
    route_followups(second.id, now=after(second))

    moved = followup_of("anna@acme.example", second)
    assert moved.rep_id == cover.id
    assert "passing over its owner Olga Owner (out of office until" in moved.why
    assert moved.lead.owner_id == cover.id


def test_an_owner_at_capacity_is_passed_over(app):
    first = make_event(slug="first")
    owner = make_rep("owner@example.com", name="Olga Owner")
    register_person(first, "anna@acme.example")
    route_followups(first.id, now=after(first))

    make_rep("other@example.com")
    set_rep(owner, capacity=1)
    second = make_event(slug="second", starts_at=first.starts_at + timedelta(days=7))
    register_person(second, "anna@acme.example")
    route_followups(second.id, now=after(second))

    moved = followup_of("anna@acme.example", second)
    assert moved.rep_id != owner.id
    assert "its owner Olga Owner (at capacity with 1 follow-up open)" in moved.why
