"""The CRM exports carry the events' registration questions as custom columns."""

from __future__ import annotations

import csv
import io

from app.followup.routing import route_followups
from app.registrations.questions import add_question
from tests.builders import log_in, make_event, make_user, register_person
from tests.followup_fixtures import after, make_rep


def exported(client, crm):  # type: ignore[no-untyped-def]
    text = client.get(f"/admin/leads.csv?crm={crm}").get_data(as_text=True).lstrip("\ufeff")
    return {row["Email"]: row for row in csv.DictReader(io.StringIO(text))}


def test_each_question_is_a_column_headed_by_its_label_in_both_crms(app, client, event):
    make_rep("ana@example.com")
    add_question(
        event.id,
        {"key": "topics", "label": "Topics", "type": "multiselect", "options": ["A", "B", "C"]},
    )
    add_question(event.id, {"key": "agree", "label": "Send me a demo", "type": "checkbox"})
    add_question(event.id, {"key": "hq", "label": "Headquarters", "type": "country"})
    add_question(event.id, {"key": "company", "label": "Company", "type": "text"})
    other = make_event(slug="other-webinar")
    add_question(other.id, {"key": "budget", "label": "Budget", "type": "text"})
    register_person(
        event,
        "p@firm.example",
        answers={"topics": ["A", "C"], "agree": True, "hq": "DE", "company": "=cmd"},
    )
    register_person(event, "q@firm.example", answers={})
    route_followups(event.id, now=after(event))
    log_in(client, make_user("marketer", "m@example.com"))

    for crm in ("salesforce", "hubspot"):
        rows = exported(client, crm)
        answered, silent = rows["p@firm.example"], rows["q@firm.example"]
        assert answered["Topics"] == "A; C"
        assert answered["Send me a demo"] == "yes"
        assert answered["Headquarters"] == "Germany"
        # A label that is one of the CRM's own headers gets a column of its own (HubSpot's
        # is "Company Name"), made formula-safe.
        own = "Company (answer)" if crm == "salesforce" else "Company"
        assert answered[own] == "'=cmd"
        # Another event's question is a column too, blank for this event's registrants.
        assert answered["Budget"] == "" and silent["Topics"] == ""


def test_answers_come_from_the_registration_for_the_rows_event(app, client, event):
    make_rep("ana@example.com")
    add_question(event.id, {"key": "size", "label": "Team size", "type": "text"})
    later = make_event(slug="later-webinar", starts_at=event.starts_at)
    add_question(later.id, {"key": "team", "label": "Team size", "type": "text"})
    register_person(event, "p@firm.example", answers={"size": "5"})
    register_person(later, "p@firm.example", answers={"team": "50"})
    route_followups(later.id, now=after(later))
    log_in(client, make_user("marketer", "m@example.com"))

    row = exported(client, "hubspot")["p@firm.example"]

    assert row["Event"] == "later-webinar"
    assert row["Team size"] == "50"
