"""The rep's follow-up list at /followups: order, what each row shows, isolation between reps,
the actions, and a bounded number of queries per page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.db import db
from app.followup.models import FollowUp, FollowUpNote
from app.followup.routing import route_followups
from app.followup.rules import save_rule
from app.registrations.models import Lead
from tests.builders import (
    counting_queries,
    csrf_token,
    form_token,
    log_in,
    make_event,
    make_user,
    register_person,
)
from tests.followup_fixtures import after, attend, bulk_registrants, followup_of, make_rep, set_rep

ROW = re.compile(r'data-followup="(\d+)"')


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in ROW.findall(html)]


def two_reps_with_leads(event):  # type: ignore[no-untyped-def]
    rita = make_rep("rita@example.com", name="Rita Rep")
    emil = make_rep("emil@example.com", name="Emil Rep")
    save_rule(None, {"name": "Germany", "countries": ["DE"], "target_rep_id": emil.id})
    save_rule(None, {"name": "Rest", "target_rep_id": rita.id})
    register_person(
        event,
        "hot@firm.example",
        first_name="Hanna",
        last_name="Hot",
        company="Hot Firm",
        job_title="CTO",
        country="US",
        utm_source="linkedin",
        answers={"team_size": "40"},
    )
    register_person(event, "warm@firm2.example", first_name="Walt", company="Warm Co", country="US")
    register_person(event, "cold@firm3.example", first_name="Cole", country="US")
    register_person(event, "klaus@firma.de", first_name="Klaus", country="DE")
    attend(event, {"hot@firm.example": 60, "warm@firm2.example": 25})
    route_followups(event.id, now=after(event))
    return rita, emil


def test_a_rep_sees_their_own_followups_most_urgent_first(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)

    html = client.get("/followups").get_data(as_text=True)

    expected = [followup_of(e).id for e in ("hot@firm.example", "warm@firm2.example")]
    expected.append(followup_of("cold@firm3.example").id)
    assert listed_ids(html) == expected
    assert followup_of("klaus@firma.de").id not in listed_ids(html)
    # What the rep needs to act: who, what they did, where they came from, and why.
    assert "Hanna Hot" in html and "CTO, Hot Firm" in html
    assert "Attended 60 of 60 min" in html
    assert "team_size: 40" in html
    assert "Spring launch" in html and "utm: linkedin" in html
    assert "Rule “Rest” (every lead) sends it to Rita Rep" in html


def test_overdue_followups_are_marked(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    hot.due_at = hot.due_at - timedelta(days=30)
    db.session.commit()
    log_in(client, rita)

    html = client.get("/followups").get_data(as_text=True)

    row = html.split(f'data-followup="{hot.id}"')[0].rsplit("<tr", 1)[1]
    assert 'class="overdue"' in row
    assert html.count("Overdue</strong>") == 1


def test_another_reps_followup_answers_404(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    theirs = followup_of("klaus@firma.de")

    page = client.get(f"/followups/{theirs.id}")
    # A valid token, so the visibility check is what refuses (not the CSRF check before it).
    token = form_token(client, "/followups")
    post = client.post(f"/followups/{theirs.id}", data={"csrf_token": token, "status": "converted"})

    assert page.status_code == 404
    assert post.status_code == 404
    assert followup_of("klaus@firma.de").status == "open"


def test_an_admin_sees_every_reps_followups(app, client, event):
    two_reps_with_leads(event)
    log_in(client, make_user("admin", "boss@example.com"))

    html = client.get("/followups").get_data(as_text=True)

    assert len(listed_ids(html)) == 4
    assert "Rep: Emil Rep" in html


def test_a_marketer_may_not_open_the_rep_list(app, client, event):
    log_in(client, make_user("marketer", "m@example.com"))
    assert client.get("/followups").status_code == 403


def test_disqualifying_needs_a_reason_from_the_list(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    followup = followup_of("cold@firm3.example")
    path = f"/followups/{followup.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))

    refused = client.post(path, data={"csrf_token": token, "status": "disqualified", "reason": ""})
    other = client.post(
        path, data={"csrf_token": token, "status": "disqualified", "reason": "other"}
    )

    assert refused.status_code == 422
    assert "Say why the lead is disqualified." in refused.get_data(as_text=True)
    assert other.status_code == 422
    assert "Describe the reason" in other.get_data(as_text=True)
    assert followup_of("cold@firm3.example").status == "open"

    done = client.post(
        path,
        data={
            "csrf_token": token,
            "status": "disqualified",
            "reason": "student",
            "reason_note": "Writing a thesis on webinars",
        },
    )
    assert done.status_code == 303
    followup = followup_of("cold@firm3.example")
    assert (followup.status, followup.reason) == ("disqualified", "student")
    assert followup.reason_note == "Writing a thesis on webinars"
    assert (followup.lead.status, followup.lead.score) == ("disqualified", 0)


def test_the_reps_verdict_updates_the_lead_and_notes_are_kept(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    followup = followup_of("warm@firm2.example")
    path = f"/followups/{followup.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))

    client.post(path, data={"csrf_token": token, "status": "contacted", "note": "Left a voicemail"})
    client.post(path, data={"csrf_token": token, "status": "qualified", "note": "Budget in Q1"})

    followup = followup_of("warm@firm2.example")
    assert followup.status == "qualified"
    assert followup.first_contacted_at is not None
    assert (followup.lead.status, followup.lead.score) == ("qualified", 80)
    notes = db.session.scalars(select(FollowUpNote.body).order_by(FollowUpNote.id)).all()
    assert notes == ["Left a voicemail", "Budget in Q1"]
    page = client.get(path).get_data(as_text=True)
    assert "Left a voicemail" in page and "Budget in Q1" in page

    client.post(path, data={"csrf_token": token, "status": "converted"})
    lead = db.session.get(Lead, followup.lead_id, populate_existing=True)
    assert (lead.status, lead.score) == ("converted", 100)


def count_queries(client, path: str) -> int:  # type: ignore[no-untyped-def]
    with counting_queries() as seen:
        response = client.get(path)
    assert response.status_code == 200
    return len(seen)


def test_the_list_page_costs_the_same_few_queries_whatever_its_length(app, client):
    earlier = make_event(slug="earlier-webinar", title="Earlier webinar")
    event = make_event(slug="main-webinar", starts_at=earlier.starts_at + timedelta(days=7))
    rep = make_rep("rep@example.com")
    log_in(client, rep)
    bulk_registrants(event, 2, email=lambda i: f"a{i}@co{i}.example")
    route_followups(event.id, now=after(event))
    few = count_queries(client, "/followups?event=main-webinar")

    # Sixty more leads who also came to an earlier event, with answers and notes: a full page
    # of fifty rows, each showing earlier events, answers and notes.
    def returning(i: int) -> str:
        return f"b{i}@firm{i}.example"

    bulk_registrants(earlier, 60, email=returning)
    bulk_registrants(event, 60, email=returning, answers={"team_size": "12"})
    route_followups(earlier.id, now=after(earlier))
    route_followups(event.id, now=after(event))
    for followup in db.session.scalars(select(FollowUp).limit(20)):
        db.session.add(FollowUpNote(followup=followup, author_id=rep.id, body="Called"))
    db.session.commit()
    many = count_queries(client, "/followups?event=main-webinar")
    html = client.get("/followups?event=main-webinar").get_data(as_text=True)

    assert len(listed_ids(html)) == 50
    assert "Earlier: Earlier webinar" in html
    assert many == few
    assert many <= 8


def test_an_admin_assigns_a_flagged_followup_to_a_rep_by_hand(app, client):
    event = make_event(slug="nobody-home")
    away = make_rep("away@example.com", name="Away Rep")
    set_rep(away, active=False)
    register_person(event, "orphan@firm.example")
    route_followups(event.id, now=after(event))
    assert followup_of("orphan@firm.example").flagged_at is not None
    set_rep(away, active=True)
    admin = make_user("admin", "boss@example.com")
    log_in(client, admin)
    followup = followup_of("orphan@firm.example")
    page = client.get(f"/followups/{followup.id}").get_data(as_text=True)
    assert "Flagged for an admin" in page

    response = client.post(
        f"/followups/{followup.id}/assign", data={"csrf_token": csrf_token(page), "rep": away.id}
    )

    assert response.status_code == 303
    followup = followup_of("orphan@firm.example")
    assert (followup.rep_id, followup.flagged_at) == (away.id, None)
    assert followup.why == f"{admin.name} assigned it to Away Rep by hand."
    assert followup.lead.owner_id == away.id


def test_a_rep_cannot_reassign_follow_ups(app, client, event):
    rita, emil = two_reps_with_leads(event)
    log_in(client, rita)
    mine = followup_of("hot@firm.example")
    token = csrf_token(client.get(f"/followups/{mine.id}").get_data(as_text=True))
    response = client.post(
        f"/followups/{mine.id}/assign", data={"csrf_token": token, "rep": emil.id}
    )
    assert response.status_code == 403
    assert followup_of("hot@firm.example").rep_id == rita.id
